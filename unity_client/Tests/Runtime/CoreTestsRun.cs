// Unity Test Runner entry for the Core's headless checks (CoreTests.cs), the same checks
// `Tests/Mono~/build.sh test` runs with Mono: protocol, resume, timelines, the expression mixer.
using NUnit.Framework;

namespace HoloMate.Tests
{
    public sealed class CoreTestsRun
    {
        [Test]
        public void EveryCoreCheckPasses()
        {
            Assert.AreEqual(0, CoreTests.Main(new string[0]), "CoreTests printed FAIL lines (see the console)");
        }
    }
}
