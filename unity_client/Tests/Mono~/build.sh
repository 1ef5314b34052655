#!/bin/sh
# Builds the package with Debian's Mono (apt: mono-mcs mono-runtime libmono-system-net-http4.0-cil)
# into bin/, one DLL per Unity assembly definition:
#   HoloMate.Core.dll        Runtime/Core, referencing no UnityEngine (its asmdef's noEngineReferences)
#   HoloMate.Unity.dll       Runtime/Unity, against StandIns/UnityEngine.cs
#   HoloMate.Client.Vrm.dll  Runtime/Vrm  (HOLOMATE_UNIVRM10), against StandIns/VRM10.cs
#   HoloMate.Client.Vrm0.dll Runtime/Vrm0 (HOLOMATE_UNIVRM0), against StandIns/VRM.cs
#   HoloMate.Samples.dll     Samples~/HologramScene, the sample's script
# and the programs: CoreTests.exe, PackageTests.exe (the Unity test-runner classes of Tests/Runtime
# and Tests/Editor on a stand-in NUnit), VrmDriverTests.exe, LiveHarness.exe, VoiceHarness.exe.
# The stand-ins copy Unity's and UniVRM's names and signatures; they are not those libraries.
#   Tests/Mono~/build.sh          build
#   Tests/Mono~/build.sh test     build, then run CoreTests and PackageTests
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$(cd "$here/../.." && pwd)"
bin="$here/bin"
mkdir -p "$bin"
cd "$pkg"
SYS="-r:System.dll -r:System.Core.dll -r:System.Net.Http.dll"
FLAGS="-langversion:7.2 -debug- -optimize+ -nowarn:1591 -warnaserror+"
lib() { out="$1"; shift; mcs $FLAGS $SYS -target:library -out:"$bin/$out" "$@"; }
exe() { out="$1"; shift; mcs $FLAGS $SYS -out:"$bin/$out" "$@"; }
S="Tests/Mono~/StandIns"

lib UnityEngine.dll "$S/UnityEngine.cs"
lib VRM10.dll -r:"$bin/UnityEngine.dll" "$S/VRM10.cs"
lib VRM.dll -r:"$bin/UnityEngine.dll" "$S/VRM.cs"
lib nunit.framework.dll "$S/NUnit.cs"
lib HoloMate.Core.dll Runtime/Core/*.cs
ENGINE="-r:$bin/UnityEngine.dll -r:$bin/HoloMate.Core.dll"
lib HoloMate.Unity.dll $ENGINE Runtime/Unity/*.cs
lib HoloMate.Client.Vrm.dll $ENGINE -r:"$bin/HoloMate.Unity.dll" -r:"$bin/VRM10.dll" -define:HOLOMATE_UNIVRM10 Runtime/Vrm/*.cs
lib HoloMate.Client.Vrm0.dll $ENGINE -r:"$bin/HoloMate.Unity.dll" -r:"$bin/VRM.dll" -define:HOLOMATE_UNIVRM0 Runtime/Vrm0/*.cs
lib HoloMate.Samples.dll $ENGINE -r:"$bin/HoloMate.Unity.dll" Samples~/HologramScene/*.cs

CORE="-r:$bin/HoloMate.Core.dll"
exe CoreTests.exe $CORE -main:HoloMate.Tests.CoreTests Tests/Runtime/CoreTests.cs Tests/Runtime/Fakes.cs
exe PackageTests.exe $ENGINE -r:"$bin/HoloMate.Unity.dll" -r:"$bin/nunit.framework.dll" \
  -main:HoloMate.Tests.PackageTests Tests/Runtime/*.cs Tests/Editor/*.cs "Tests/Mono~/PackageTests.cs"
exe VrmDriverTests.exe $ENGINE -r:"$bin/HoloMate.Unity.dll" -r:"$bin/VRM10.dll" -r:"$bin/VRM.dll" \
  -r:"$bin/HoloMate.Client.Vrm.dll" -r:"$bin/HoloMate.Client.Vrm0.dll" "Tests/Mono~/VrmDriverTests.cs"
exe LiveHarness.exe $CORE "Tests/Mono~/LiveHarness.cs"
exe VoiceHarness.exe $CORE "Tests/Mono~/VoiceHarness.cs"
echo "built $bin: HoloMate.*.dll CoreTests.exe PackageTests.exe VrmDriverTests.exe LiveHarness.exe VoiceHarness.exe"
if [ "${1:-}" = "test" ]; then
  cd "$bin"
  mono CoreTests.exe
  exec mono PackageTests.exe
fi
