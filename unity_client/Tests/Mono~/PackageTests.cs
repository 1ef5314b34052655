// Runs the Unity test-runner classes of Tests/Runtime and Tests/Editor here, on the stand-in NUnit.
using System;
using NUnit.Framework;

namespace HoloMate.Tests
{
    public static class PackageTests
    {
        public static int Main(string[] args)
        {
            int passed;
            int failed = StandInRunner.Run(typeof(PackageTests).Assembly, out passed);
            Console.WriteLine(passed + " passed, " + failed + " failed");
            return failed == 0 ? 0 : 1;
        }
    }
}
