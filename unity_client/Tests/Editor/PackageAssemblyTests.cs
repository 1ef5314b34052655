// Edit-mode checks of the package's assemblies as Unity built them.
using System;
using HoloMate.Core;
using HoloMate.Unity;
using NUnit.Framework;

namespace HoloMate.Tests.Editor
{
    public sealed class PackageAssemblyTests
    {
        [Test]
        public void TheCoreNeverReferencesTheEngine()
        {
            foreach (var reference in typeof(HologramSession).Assembly.GetReferencedAssemblies())
                Assert.IsFalse(reference.Name.StartsWith("UnityEngine", StringComparison.Ordinal), "HoloMate.Core references " + reference.Name);
        }

        [Test]
        public void TheExpressionDriverIsAComponentOverTheCore()
        {
            Assert.IsTrue(typeof(UnityEngine.MonoBehaviour).IsAssignableFrom(typeof(ExpressionDriver)), "ExpressionDriver is a MonoBehaviour");
            Assert.AreEqual(typeof(ExpressionMixer).Assembly, typeof(HologramSession).Assembly, "the mixer lives in the Core");
        }
    }
}
