using System.DirectoryServices.Protocols;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Relay.Adapters.Ldap;

/// <summary>
/// The few options of OpenLDAP's client library (libldap, which System.DirectoryServices.Protocols calls on Linux)
/// that the managed API does not expose, set on one connection's own handle, never on the library's global defaults
/// (those are shared by every connection of the process, TLS settings included):
/// <list type="bullet">
/// <item><c>LDAP_OPT_RESTART</c>: a signal that interrupts the library's wait for a reply (poll(2) answers EINTR;
/// SIGCHLD reaches any thread of a process whose child processes end) makes libldap report 81 serverDown from a healthy
/// server unless this is on. It is off by default. This was the "81 serverDown" of concurrent deliveries.</item>
/// <item><c>LDAP_OPT_NETWORK_TIMEOUT</c> and <c>LDAP_OPT_TIMEOUT</c>: the connect, the TLS handshake and the bind are
/// synchronous calls that the managed API leaves without a time limit; a server that accepts and never answers would
/// hold the calling thread for ever.</item>
/// <item><c>LDAP_OPT_URI</c>, so that StartTLS goes to the destination's server: the managed API sets it only at the
/// bind, after StartTLS would already have gone to libldap's default (localhost).</item>
/// </list>
/// The handle is the connection's private field <c>_ldapHandle</c> (the same in every release since .NET 5); if a
/// release renames it, <see cref="Configure"/> throws and the adapter's tests fail, rather than running without these.
/// </summary>
internal static class LibLdap
{
    private const int OptRestart = 0x0009;
    private const int OptResultCode = 0x0031;
    private const int OptUri = 0x5006;
    private const int OptTimeout = 0x5002;
    private const int OptNetworkTimeout = 0x5005;

    private static readonly FieldInfo? HandleField = typeof(LdapConnection).GetField("_ldapHandle", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly Lazy<Native> Library = new(Load);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetOptionPointer(IntPtr ld, int option, IntPtr value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetOptionTime(IntPtr ld, int option, ref TimeValue value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl, CharSet = CharSet.Ansi)]
    private delegate int SetOptionText(IntPtr ld, int option, string value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int GetOptionInt(IntPtr ld, int option, out int value);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeValue
    {
        public long Seconds;
        public long Microseconds;
    }

    private sealed record Native(SetOptionPointer SetPointer, SetOptionTime SetTime, SetOptionText SetText, GetOptionInt GetInt);

    /// <summary>Sets restart-on-EINTR, the time limits and the server's URI on this connection's handle.</summary>
    public static void Configure(LdapConnection connection, string uri, TimeSpan timeLimit)
    {
        var handle = Handle(connection);
        var native = Library.Value;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var ld = handle.DangerousGetHandle();
            var limit = new TimeValue { Seconds = (long)timeLimit.TotalSeconds, Microseconds = timeLimit.Microseconds + (timeLimit.Milliseconds * 1000L) };
            Check(native.SetPointer(ld, OptRestart, 1), "LDAP_OPT_RESTART");
            Check(native.SetTime(ld, OptNetworkTimeout, ref limit), "LDAP_OPT_NETWORK_TIMEOUT");
            Check(native.SetTime(ld, OptTimeout, ref limit), "LDAP_OPT_TIMEOUT");
            Check(native.SetText(ld, OptUri, uri), "LDAP_OPT_URI");
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>The result code of the connection's last operation (LDAP_OPT_RESULT_CODE), 0 when there is none.</summary>
    public static int LastResultCode(LdapConnection connection)
    {
        if (HandleField?.GetValue(connection) is not SafeHandle { IsInvalid: false, IsClosed: false } handle)
        {
            return 0;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Library.Value.GetInt(handle.DangerousGetHandle(), OptResultCode, out var code) == 0 ? code : 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static SafeHandle Handle(LdapConnection connection) =>
        HandleField?.GetValue(connection) as SafeHandle
        ?? throw new InvalidOperationException("System.DirectoryServices.Protocols has no LdapConnection._ldapHandle: the LDAP adapter cannot set the options it needs.");

    private static void Check(int result, string option)
    {
        if (result != 0)
        {
            throw new LdapException(result, $"libldap refused {option}");
        }
    }

    // The library System.DirectoryServices.Protocols loads (it tries these names in this order): loading it again
    // gives the same instance.
    private static Native Load()
    {
        foreach (var name in new[] { "libldap-2.5.so.0", "libldap-2.6.so.0", "libldap-2.4.so.2", "libldap.so.2" })
        {
            if (NativeLibrary.TryLoad(name, out var library) && NativeLibrary.TryGetExport(library, "ldap_set_option", out var setOption))
            {
                return new Native(
                    Marshal.GetDelegateForFunctionPointer<SetOptionPointer>(setOption),
                    Marshal.GetDelegateForFunctionPointer<SetOptionTime>(setOption),
                    Marshal.GetDelegateForFunctionPointer<SetOptionText>(setOption),
                    NativeLibrary.TryGetExport(library, "ldap_get_option", out var getOption)
                        ? Marshal.GetDelegateForFunctionPointer<GetOptionInt>(getOption)
                        : throw new EntryPointNotFoundException("libldap has no ldap_get_option"));
            }
        }

        throw new DllNotFoundException("libldap is missing (Debian: libldap-2.5-0).");
    }
}
