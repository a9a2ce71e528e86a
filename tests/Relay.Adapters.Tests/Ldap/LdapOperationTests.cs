using Relay.Adapters.Ldap;

namespace Relay.Adapters.Tests.Ldap;

public class LdapOperationTests
{
    private static LdapOperation Parse(string json)
    {
        Assert.True(LdapOperation.TryParse(Encoding.UTF8.GetBytes(json), out var operation, out var problem), problem);
        return operation;
    }

    private static string Problem(string json)
    {
        Assert.False(LdapOperation.TryParse(Encoding.UTF8.GetBytes(json), out _, out var problem));
        return problem;
    }

    [Fact]
    public void Reads_an_add_with_single_and_multiple_values_numbers_and_booleans()
    {
        var operation = Parse("""
            { "operation": "add", "dn": "uid=jdoe,ou=people,dc=relay,dc=test",
              "attributes": { "objectClass": ["top", "inetOrgPerson"], "cn": "John Doe", "uidNumber": 1001, "flag": true } }
            """);

        Assert.Equal(LdapOperationKind.Add, operation.Kind);
        Assert.Equal("uid=jdoe,ou=people,dc=relay,dc=test", operation.Dn);
        Assert.Equal(
            [("objectClass", "top|inetOrgPerson"), ("cn", "John Doe"), ("uidNumber", "1001"), ("flag", "TRUE")],
            operation.Attributes.Select(a => (a.Name, string.Join('|', a.Values))));
    }

    [Fact]
    public void Reads_a_modify_with_its_changes_in_order()
    {
        var operation = Parse("""
            { "Operation": "MODIFY", "DN": "uid=jdoe,ou=people,dc=relay,dc=test",
              "changes": [ { "op": "replace", "attribute": "mail", "values": ["a@x.org", "b@x.org"] },
                           { "op": "add", "attribute": "telephoneNumber", "values": "+1 555" },
                           { "op": "delete", "attribute": "description" },
                           { "op": "delete", "attribute": "mail", "values": ["b@x.org"] } ] }
            """);

        Assert.Equal(LdapOperationKind.Modify, operation.Kind);
        Assert.Equal(
            [
                (LdapChangeKind.Replace, "mail", "a@x.org|b@x.org"),
                (LdapChangeKind.Add, "telephoneNumber", "+1 555"),
                (LdapChangeKind.Delete, "description", ""),
                (LdapChangeKind.Delete, "mail", "b@x.org"),
            ],
            operation.Changes.Select(c => (c.Kind, c.Attribute, string.Join('|', c.Values))));
    }

    [Fact]
    public void Reads_a_delete()
    {
        var operation = Parse("""{ "operation": "delete", "dn": "uid=jdoe,ou=people,dc=relay,dc=test" }""");

        Assert.Equal(LdapOperationKind.Delete, operation.Kind);
        Assert.Empty(operation.Attributes);
        Assert.Empty(operation.Changes);
    }

    [Theory]
    [InlineData("not json", "the payload is not JSON")]
    [InlineData("[1]", "the payload is not a JSON object")]
    [InlineData("""{ "operation": "rename", "dn": "cn=x" }""", "'operation' must be add, modify or delete")]
    [InlineData("""{ "dn": "cn=x" }""", "'operation' must be add, modify or delete")]
    [InlineData("""{ "operation": "delete" }""", "'dn' is missing or empty")]
    [InlineData("""{ "operation": "delete", "dn": 5 }""", "'dn' must be a string")]
    [InlineData("""{ "operation": "delete", "dn": "cn=x", "secret": "s3cr3t" }""", "unknown property (known: operation, dn, attributes, changes)")]
    [InlineData("""{ "operation": "add", "dn": "cn=x" }""", "an add needs 'attributes', an object of attribute names and values")]
    [InlineData("""{ "operation": "add", "dn": "cn=x", "attributes": {} }""", "'attributes' is empty")]
    [InlineData("""{ "operation": "add", "dn": "cn=x", "attributes": { "cn": [] } }""", "attribute #0 must have a value: a string, a number, or an array of them")]
    [InlineData("""{ "operation": "add", "dn": "cn=x", "attributes": { "cn": "a", "sn": { "v": "s3cr3t" } } }""", "attribute #1 must have a value: a string, a number, or an array of them")]
    [InlineData("""{ "operation": "add", "dn": "cn=x", "attributes": { "cn": "a" }, "changes": [] }""", "an add has 'attributes', not 'changes'")]
    [InlineData("""{ "operation": "modify", "dn": "cn=x", "changes": [] }""", "a modify needs 'changes', a non-empty array of { op, attribute, values }")]
    [InlineData("""{ "operation": "modify", "dn": "cn=x", "attributes": { "cn": "a" } }""", "a modify has 'changes', not 'attributes'")]
    [InlineData("""{ "operation": "modify", "dn": "cn=x", "changes": [ { "op": "upsert", "attribute": "cn" } ] }""", "changes[0].op must be add, replace or delete")]
    [InlineData("""{ "operation": "modify", "dn": "cn=x", "changes": [ { "op": "add", "attribute": "cn" } ] }""", "changes[0]: an add of values needs 'values'")]
    [InlineData("""{ "operation": "modify", "dn": "cn=x", "changes": [ { "op": "replace", "values": ["a"] } ] }""", "changes[0].attribute is missing or empty")]
    [InlineData("""{ "operation": "modify", "dn": "cn=x", "changes": [ 7 ] }""", "changes[0] is not an object")]
    [InlineData("""{ "operation": "delete", "dn": "cn=x", "changes": [] }""", "a delete has only 'dn'")]
    public void Names_a_problem_by_its_place_and_never_by_a_value(string json, string expected)
    {
        var problem = Problem(json);

        Assert.Equal(expected, problem);
        Assert.DoesNotContain("s3cr3t", problem);
    }
}
