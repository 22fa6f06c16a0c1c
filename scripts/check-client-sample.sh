#!/usr/bin/env bash
# Builds the sample app (Clients/Swift/Examples/SampleApp) against the Swift client as an app
# would: the client by path next to the app's own SwiftNIO (2.101.2, where the server pins
# 2.101.3), in its own .build under the sample's folder. Fails when the dependencies do not
# resolve, when a server-only package (argument parser, crypto, service lifecycle, Prometheus, ...)
# is among the resolved ones, when the app's SwiftNIO is not the one it pinned, or when the build
# fails. SWIFT: the swift executable (default: swift).
set -euo pipefail
swift="${SWIFT:-swift}"
cd "$(dirname "$0")/../Clients/Swift/Examples/SampleApp"

"$swift" package resolve
dependencies="$("$swift" package show-dependencies)"
echo "$dependencies"
forbidden="swift-argument-parser|swift-crypto|swift-service-lifecycle|swift-prometheus|swift-async-algorithms|swift-asn1|swift-certificates"
if grep -E -o "$forbidden" <<<"$dependencies" | sort -u | grep .; then
    echo "check-client-sample: the client pulls the server-only packages above into an app" >&2
    exit 1
fi
if ! grep -q "swift-nio.git@2.101.2>" <<<"$dependencies"; then
    echo "check-client-sample: SwiftNIO did not resolve to the app's 2.101.2" >&2
    exit 1
fi
"$swift" build
echo "check-client-sample: the sample app builds against the client with SwiftNIO 2.101.2"
