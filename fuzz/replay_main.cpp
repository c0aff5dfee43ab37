// A main for the fuzz targets in builds without libFuzzer (gcc, the coverage
// preset): runs LLVMFuzzerTestOneInput once over every file named on the
// command line or found (recursively) in a named directory, in sorted order.
// Arguments starting with '-' are libFuzzer flags and are ignored, so the
// same command line works for both builds. Exits 1 when a path is missing or
// there was nothing to run; a property violation aborts, as under libFuzzer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.starts_with("-")) continue;
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      for (fs::recursive_directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) inputs.push_back(it->path());
      }
    } else if (fs::is_regular_file(arg, ec)) {
      inputs.emplace_back(arg);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", arg.c_str());
      return 1;
    }
    if (ec) {
      std::fprintf(stderr, "replay: %s: %s\n", arg.c_str(), ec.message().c_str());
      return 1;
    }
  }
  std::sort(inputs.begin(), inputs.end());
  for (const fs::path& path : inputs) {
    std::ifstream file(path, std::ios::binary);
    // An exact-size heap copy, so sanitizers see any read past the input.
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                                          std::istreambuf_iterator<char>());
    if (!file.good() && !file.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
      return 1;
    }
    static const std::uint8_t kEmpty = 0;  // libFuzzer never passes a null pointer either
    const std::vector<std::uint8_t> exact(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(exact.empty() ? &kEmpty : exact.data(), exact.size());
  }
  std::printf("replay: %zu inputs run, no property violated\n", inputs.size());
  return inputs.empty() ? 1 : 0;
}
