// Stand-in for the few NUnit members the package's Unity test-runner assemblies use, plus a
// runner, so the same [Test] classes Unity runs compile and run here. Not NUnit.
using System;
using System.Reflection;

namespace NUnit.Framework
{
    [AttributeUsage(AttributeTargets.Method)] public sealed class TestAttribute : Attribute { }

    public sealed class AssertionException : Exception { public AssertionException(string message) : base(message) { } }

    public static class Assert
    {
        public static void AreEqual(object expected, object actual, string message = "")
        {
            if (!Equals(expected, actual)) throw new AssertionException("expected " + expected + ", got " + actual + ". " + message);
        }
        public static void IsTrue(bool condition, string message = "") { if (!condition) throw new AssertionException(message); }
        public static void IsFalse(bool condition, string message = "") { IsTrue(!condition, message); }
    }

    public static class StandInRunner
    {
        /// <summary>Runs every [Test] method of the assembly; prints one line each and returns the failures.</summary>
        public static int Run(Assembly assembly, out int passed)
        {
            int failed = 0;
            passed = 0;
            foreach (Type type in assembly.GetTypes())
                foreach (MethodInfo method in type.GetMethods())
                {
                    if (method.GetCustomAttribute(typeof(TestAttribute)) == null) continue;
                    try { method.Invoke(method.IsStatic ? null : Activator.CreateInstance(type), null); passed++; Console.WriteLine("ok   " + type.Name + "." + method.Name); }
                    catch (TargetInvocationException e) { failed++; Console.WriteLine("FAIL " + type.Name + "." + method.Name + ": " + e.InnerException.Message); }
                }
            return failed;
        }
    }
}
