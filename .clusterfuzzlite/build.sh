#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script (runs in the image of Dockerfile,
# with CC, CXX, CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE, SRC, WORK and OUT set).
#
# The targets are fuzz/fuzz_*.cpp, exactly as the CMake fuzz preset builds
# them, linked with reference/wire compiled from its sources with the
# engine's flags. hmac.cpp is left out: it needs OpenSSL 3, and the targets
# use it only when TEREDO_FUZZ_HMAC is defined, which only CMake does.

cd "$SRC/teredo-conformance"

targets="fuzz_address_text fuzz_address_binary fuzz_encapsulation fuzz_datagram
         fuzz_nd_options fuzz_icmpv6_echo fuzz_frame"

wire_objects=""
for source in reference/wire/src/*.cpp; do
  name=$(basename "$source" .cpp)
  [ "$name" = hmac ] && continue
  $CXX $CXXFLAGS -std=c++20 -Ireference/wire/include -c "$source" -o "$WORK/wire_$name.o"
  wire_objects="$wire_objects $WORK/wire_$name.o"
done
rm -f "$WORK/libteredo_wire.a"
ar rcs "$WORK/libteredo_wire.a" $wire_objects

for target in $targets; do
  $CXX $CXXFLAGS -std=c++20 -Ireference/wire/include -Ifuzz "fuzz/$target.cpp" \
      -o "$OUT/$target" $LIB_FUZZING_ENGINE "$WORK/libteredo_wire.a"
  cp "fuzz/dict/$target.dict" "$OUT/$target.dict"
  rm -f "$OUT/${target}_seed_corpus.zip"
  (cd "fuzz/corpus/$target" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*)
done
