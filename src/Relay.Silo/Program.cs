namespace Relay.Silo; public static class Placeholder {}
