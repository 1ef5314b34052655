#!/bin/sh
# Builds the UnityEngine-free Core with Debian's Mono (apt: mono-mcs mono-runtime
# libmono-system-net-http4.0-cil) into bin/: CoreTests.exe, LiveHarness.exe and VoiceHarness.exe.
#   ./build.sh          build
#   ./build.sh test     build, then run CoreTests
set -eu
cd "$(dirname "$0")"
mkdir -p bin
REFS="-r:System.dll -r:System.Core.dll -r:System.Net.Http.dll"
FLAGS="-langversion:7.2 -debug- -optimize+ -nowarn:1591 -warnaserror+"
mcs $FLAGS $REFS -out:bin/CoreTests.exe Runtime/Core/*.cs Tests/Fakes.cs Tests/CoreTests.cs
mcs $FLAGS $REFS -out:bin/LiveHarness.exe Runtime/Core/*.cs Tests/LiveHarness.cs
mcs $FLAGS $REFS -out:bin/VoiceHarness.exe Runtime/Core/*.cs Tests/VoiceHarness.cs
echo "built bin/CoreTests.exe bin/LiveHarness.exe bin/VoiceHarness.exe"
if [ "${1:-}" = "test" ]; then
  exec mono bin/CoreTests.exe
fi
