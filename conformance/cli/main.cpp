// teredo-conform: the command line of the harness.
//   decode   --pcap FILE | --hex BYTES      one JSON object per frame
//   address  ADDR | --server --port --ipv4  decode or build a Teredo address
//   samples  --out FILE                     write the project's own sample capture
// Exit codes: 0 done, 2 bad input (missing file, not a capture, bad hex,
// bad address, a truncated capture), 3 bad usage (unknown command or flag).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "capture/pcap_file.hpp"
#include "decode/teredo_json.hpp"
#include "samples/sample_captures.hpp"
#include "teredo/wire/wire.hpp"

namespace {

constexpr int kExitInput = 2;
constexpr int kExitUsage = 3;

// A bad-input failure: printed as one line, exit code 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void print(const nlohmann::ordered_json& j, bool pretty) {
  std::cout << (pretty ? j.dump(2) : j.dump()) << '\n';
}

int run_decode_pcap(const std::string& path, bool teredo_only, bool pretty) {
  teredo::capture::PcapReader reader(path);
  if (!teredo::wire::is_supported_link_type(reader.link_type())) {
    throw InputError(fmt::format("{}: link type {} is not supported", path, reader.link_type()));
  }
  const auto link = static_cast<teredo::wire::LinkType>(reader.link_type());
  teredo::capture::Frame frame;
  for (;;) {
    switch (reader.next(frame)) {
      case teredo::capture::PcapReader::Status::end:
        return 0;
      case teredo::capture::PcapReader::Status::error:
        std::cout.flush();
        throw InputError(fmt::format("{}: after frame {}: {}", path, frame.number, reader.error()));
      case teredo::capture::PcapReader::Status::frame: {
        auto j = teredo::decode::decode_frame(frame.number, link, frame.data);
        if (!teredo_only || j.value("teredo", false)) print(j, pretty);
        break;
      }
    }
  }
}

int run_decode_hex(const std::string& hex, bool pretty) {
  teredo::wire::ByteVector bytes;
  if (!teredo::wire::from_hex(hex, bytes) || bytes.empty()) {
    throw InputError("--hex: not a hex string (expected pairs of hex digits, e.g. 0000feae...)");
  }
  auto j = teredo::decode::decode_teredo_payload(bytes, true);
  print(j, pretty);
  if (j.contains("error")) {
    throw InputError(fmt::format("--hex: not a valid Teredo datagram: {}", j["error"].get<std::string>()));
  }
  return 0;
}

teredo::wire::Ipv4Address ipv4_arg(const std::string& flag, const std::string& text) {
  auto a = teredo::wire::parse_ipv4(text);
  if (!a) throw InputError(fmt::format("{}: '{}' is not an IPv4 address", flag, text));
  return *a;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"teredo-conform: Teredo (RFC 4380, RFC 5991) conformance and fuzz harness"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "teredo-conform 0.1.0");

  auto* decode = app.add_subcommand("decode", "Decode Teredo datagrams to JSON, one object per frame");
  std::string pcap_path, hex;
  bool teredo_only = false, pretty = false;
  auto* pcap_opt = decode->add_option("--pcap", pcap_path, "Capture file (pcap or pcapng) to decode");
  auto* hex_opt = decode->add_option("--hex", hex, "One Teredo UDP payload as hex");
  pcap_opt->excludes(hex_opt);
  decode->add_flag("--teredo-only", teredo_only, "Print only frames decoded as Teredo");
  decode->add_flag("--pretty", pretty, "Indent the JSON");

  auto* address = app.add_subcommand("address", "Decode a Teredo address, or build one from its parts");
  std::string address_text, server, ipv4;
  std::optional<std::uint16_t> port;
  bool cone = false;
  std::uint16_t random = 0;
  address->add_option("ADDR", address_text, "Teredo IPv6 address to decode");
  auto* server_opt = address->add_option("--server", server, "Server IPv4 address (to build)");
  auto* port_opt = address->add_option("--port", port, "Mapped UDP port (to build)");
  auto* ipv4_opt = address->add_option("--ipv4", ipv4, "Mapped IPv4 address (to build)");
  address->add_flag("--cone", cone, "Set the cone bit (to build)");
  address->add_option("--random", random, "Random flag bits, masked with 0x3CFF (to build)");
  address->add_flag("--pretty", pretty, "Indent the JSON");

  auto* samples = app.add_subcommand("samples", "Write the project's own sample Teredo capture");
  std::string samples_out;
  samples->add_option("--out", samples_out, "Output pcap path")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "teredo-conform: " << e.what() << " (see --help)\n";
    return kExitUsage;
  }

  try {
    if (decode->parsed()) {
      if (!pcap_path.empty()) return run_decode_pcap(pcap_path, teredo_only, pretty);
      if (!hex.empty() || *hex_opt) return run_decode_hex(hex, pretty);
      std::cerr << "teredo-conform decode: give --pcap FILE or --hex BYTES (see --help)\n";
      return kExitUsage;
    }
    if (address->parsed()) {
      const bool building = *server_opt || *port_opt || *ipv4_opt;
      if (building == !address_text.empty()) {
        std::cerr << "teredo-conform address: give either ADDR or --server, --port and --ipv4\n";
        return kExitUsage;
      }
      if (!building) {
        auto t = teredo::wire::parse_teredo(address_text);
        if (!t) {
          throw InputError(fmt::format("'{}' is not a Teredo address: {}", address_text,
                                       teredo::wire::to_string(t.error())));
        }
        print(teredo::decode::describe_teredo_address(*t), pretty);
        return 0;
      }
      if (!*server_opt || !*port_opt || !*ipv4_opt) {
        std::cerr << "teredo-conform address: building needs --server, --port and --ipv4\n";
        return kExitUsage;
      }
      teredo::wire::TeredoAddress t{ipv4_arg("--server", server),
                                    teredo::wire::make_teredo_flags(cone, random), *port,
                                    ipv4_arg("--ipv4", ipv4)};
      print(teredo::decode::describe_teredo_address(t), pretty);
      return 0;
    }
    if (samples->parsed()) {
      teredo::samples::write_lifecycle_pcap(samples_out);
      return 0;
    }
  } catch (const InputError& e) {
    std::cerr << "teredo-conform: " << e.what() << '\n';
    return kExitInput;
  } catch (const teredo::capture::CaptureError& e) {
    std::cerr << "teredo-conform: " << e.what() << '\n';
    return kExitInput;
  } catch (const std::exception& e) {
    std::cerr << "teredo-conform: internal error: " << e.what() << '\n';
    return kExitInput;
  }
  return kExitUsage;
}
