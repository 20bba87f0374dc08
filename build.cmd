:<<"::CMDLITERAL"
@ECHO OFF
GOTO :CMDSCRIPT
::CMDLITERAL
# ModelSdk build script. Same verbs on Linux/macOS (./build.cmd VERB) and Windows (build.cmd VERB):
#   build   build the solution
#   test    run every test (unit, generator snapshots, ONNX conformance, end-to-end through a package)
#   pack    write artifacts/packages/ModelSdk.<version>.nupkg
#   run     pack, then build and run the Digits sample through the package
#   aot     pack, then run the Digits sample with the JIT and published with NativeAOT; their outputs must agree
# Started by a program rather than by bash (no #! line: cmd.exe must read line 1), /bin/sh runs it: hand over to bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
verb="${1:-build}"
[ $# -gt 0 ] && shift
config="${CONFIGURATION:-Release}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

pack() {
  dotnet pack "$root/nuget/ModelSdk.Package.csproj" -c "$config" -o "$root/artifacts/packages" "$@"
  # The sample restores into samples/.packages; drop the old copy of this version so it sees the new package.
  rm -rf "$root/samples/.packages/modelsdk"
}

ensure_testdata() {
  if [ -n "${MODELSDK_ONNX_TESTDATA:-}" ] || [ -d /usr/share/libonnx-testdata/data/node ]; then
    return 0
  fi
  if command -v apt-get >/dev/null 2>&1; then
    echo "Installing libonnx-testdata (ONNX's backend test cases) with apt-get..."
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq libonnx-testdata
  else
    echo "The ONNX conformance tests need ONNX's backend test data. On Debian/Ubuntu: apt-get install libonnx-testdata." >&2
    echo "Elsewhere: set MODELSDK_ONNX_TESTDATA to a folder holding node/, pytorch-converted/, pytorch-operator/ and simple/" >&2
    echo "(the onnx/backend/test/data folder of the onnx repository at version 1.12)." >&2
    exit 1
  fi
}

case "$verb" in
  build)
    dotnet build "$root/ModelSdk.sln" -c "$config" "$@"
    ;;
  pack)
    pack "$@"
    ;;
  test)
    ensure_testdata
    dotnet test "$root/ModelSdk.sln" -c "$config" "$@"
    ;;
  run)
    pack
    dotnet run --project "$root/samples/Digits/DigitsSample.csproj" -c "$config" "$@"
    ;;
  aot)
    # NativeAOT needs a C toolchain (clang or gcc, and the platform linker) besides the .NET SDK.
    pack
    sample="$root/samples/Digits/DigitsSample.csproj"
    out="$root/artifacts/aot"
    rm -rf "$out" && mkdir -p "$out"
    dotnet build "$sample" -c "$config" "$@"
    dotnet run --project "$sample" -c "$config" --no-build > "$out/jit.txt" || { cat "$out/jit.txt"; exit 1; }
    dotnet publish "$sample" -c "$config" -p:PublishAot=true -o "$out/Digits" "$@"
    "$out/Digits/DigitsSample" > "$out/aot.txt" || { cat "$out/aot.txt"; exit 1; }
    cat "$out/aot.txt"
    if ! diff -u "$out/jit.txt" "$out/aot.txt"; then
      echo "The NativeAOT build printed something else than the JIT run (above: - JIT, + NativeAOT)." >&2
      exit 1
    fi
    echo "NativeAOT and JIT runs of the Digits sample print the same (native executable: $out/Digits/DigitsSample)."
    ;;
  *)
    echo "usage: ./build.cmd build|test|pack|run|aot [dotnet options]" >&2
    exit 2
    ;;
esac
exit 0

:CMDSCRIPT
SETLOCAL
SET "ROOT=%~dp0"
SET "VERB=%~1"
IF "%VERB%"=="" SET "VERB=build"
IF "%CONFIGURATION%"=="" SET "CONFIGURATION=Release"
SET DOTNET_CLI_TELEMETRY_OPTOUT=1
SET DOTNET_NOLOGO=1
IF /I "%VERB%"=="build" GOTO :BUILD
IF /I "%VERB%"=="pack" GOTO :PACK
IF /I "%VERB%"=="test" GOTO :TEST
IF /I "%VERB%"=="run" GOTO :RUN
IF /I "%VERB%"=="aot" GOTO :AOT
ECHO usage: build.cmd build^|test^|pack^|run^|aot 1>&2
EXIT /B 2

:BUILD
dotnet build "%ROOT%ModelSdk.sln" -c %CONFIGURATION%
EXIT /B %ERRORLEVEL%

:PACK
CALL :DOPACK
EXIT /B %ERRORLEVEL%

:DOPACK
dotnet pack "%ROOT%nuget\ModelSdk.Package.csproj" -c %CONFIGURATION% -o "%ROOT%artifacts\packages" || EXIT /B 1
IF EXIST "%ROOT%samples\.packages\modelsdk" RMDIR /S /Q "%ROOT%samples\.packages\modelsdk"
EXIT /B 0

:TEST
IF "%MODELSDK_ONNX_TESTDATA%"=="" (
  ECHO The ONNX conformance tests need ONNX's backend test data: set MODELSDK_ONNX_TESTDATA to a folder holding 1>&2
  ECHO node\, pytorch-converted\, pytorch-operator\ and simple\ ^(onnx/backend/test/data of onnx 1.12; Debian package libonnx-testdata^). 1>&2
  EXIT /B 1
)
dotnet test "%ROOT%ModelSdk.sln" -c %CONFIGURATION%
EXIT /B %ERRORLEVEL%

:RUN
CALL :DOPACK || EXIT /B 1
dotnet run --project "%ROOT%samples\Digits\DigitsSample.csproj" -c %CONFIGURATION%
EXIT /B %ERRORLEVEL%

:AOT
REM NativeAOT needs the "Desktop development with C++" workload of Visual Studio (its linker) besides the .NET SDK.
CALL :DOPACK || EXIT /B 1
SET "SAMPLE=%ROOT%samples\Digits\DigitsSample.csproj"
SET "AOTOUT=%ROOT%artifacts\aot"
IF EXIST "%AOTOUT%" RMDIR /S /Q "%AOTOUT%"
MKDIR "%AOTOUT%"
dotnet build "%SAMPLE%" -c %CONFIGURATION% || EXIT /B 1
dotnet run --project "%SAMPLE%" -c %CONFIGURATION% --no-build > "%AOTOUT%\jit.txt" || (TYPE "%AOTOUT%\jit.txt" & EXIT /B 1)
dotnet publish "%SAMPLE%" -c %CONFIGURATION% -p:PublishAot=true -o "%AOTOUT%\Digits" || EXIT /B 1
"%AOTOUT%\Digits\DigitsSample.exe" > "%AOTOUT%\aot.txt" || (TYPE "%AOTOUT%\aot.txt" & EXIT /B 1)
TYPE "%AOTOUT%\aot.txt"
FC "%AOTOUT%\jit.txt" "%AOTOUT%\aot.txt" >NUL || (FC "%AOTOUT%\jit.txt" "%AOTOUT%\aot.txt" & ECHO The NativeAOT build printed something else than the JIT run. 1>&2 & EXIT /B 1)
ECHO NativeAOT and JIT runs of the Digits sample print the same (native executable: %AOTOUT%\Digits\DigitsSample.exe).
EXIT /B 0
