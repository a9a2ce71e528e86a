namespace Relay.Core.Topics;

/// <summary>Why a filter is not one: the 1-based column of the fault, and what is wrong there.</summary>
public sealed record FilterError(int Column, string Message)
{
    public override string ToString() => $"at column {Column}: {Message}";
}
