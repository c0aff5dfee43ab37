// decode, address, samples: the codec for people.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "capture/pcap_file.hpp"
#include "cli/commands.hpp"
#include "decode/teredo_json.hpp"
#include "samples/sample_captures.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::cli {

namespace {

void print(const nlohmann::ordered_json& j, bool pretty) {
  std::cout << (pretty ? j.dump(2) : j.dump()) << '\n';
}

int decode_pcap(const std::string& path, bool teredo_only, bool pretty) {
  capture::PcapReader reader(path);
  if (!wire::is_supported_link_type(reader.link_type())) {
    throw InputError(fmt::format("{}: link type {} is not supported", path, reader.link_type()));
  }
  const auto link = static_cast<wire::LinkType>(reader.link_type());
  capture::Frame frame;
  for (;;) {
    switch (reader.next(frame)) {
      case capture::PcapReader::Status::end:
        return kExitOk;
      case capture::PcapReader::Status::error:
        std::cout.flush();
        throw InputError(fmt::format("{}: after frame {}: {}", path, frame.number, reader.error()));
      case capture::PcapReader::Status::frame: {
        auto j = decode::decode_frame(frame.number, link, frame.data);
        if (!teredo_only || j.value("teredo", false)) print(j, pretty);
        break;
      }
    }
  }
}

int decode_hex(const std::string& hex, bool pretty) {
  wire::ByteVector bytes;
  if (!wire::from_hex(hex, bytes) || bytes.empty()) {
    throw InputError("--hex: not a hex string (expected pairs of hex digits, e.g. 0000feae...)");
  }
  auto j = decode::decode_teredo_payload(bytes, true);
  print(j, pretty);
  if (j.contains("error")) {
    throw InputError(fmt::format("--hex: not a valid Teredo datagram: {}", j["error"].get<std::string>()));
  }
  return kExitOk;
}

wire::Ipv4Address ipv4_arg(const std::string& flag, const std::string& text) {
  auto a = wire::parse_ipv4(text);
  if (!a) throw InputError(fmt::format("{}: '{}' is not an IPv4 address", flag, text));
  return *a;
}

}  // namespace

std::vector<Command> add_decode_commands(CLI::App& app) {
  std::vector<Command> commands;

  struct DecodeOptions {
    std::string pcap, hex;
    bool teredo_only = false, pretty = false;
  };
  auto d = std::make_shared<DecodeOptions>();
  auto* decode = app.add_subcommand("decode", "Decode Teredo datagrams to JSON, one object per frame");
  auto* pcap_opt = decode->add_option("--pcap", d->pcap, "Capture file (pcap or pcapng) to decode");
  auto* hex_opt = decode->add_option("--hex", d->hex, "One Teredo UDP payload as hex");
  pcap_opt->excludes(hex_opt);
  decode->add_flag("--teredo-only", d->teredo_only, "Print only frames decoded as Teredo");
  decode->add_flag("--pretty", d->pretty, "Indent the JSON");
  commands.push_back({decode, [d, pcap_opt, hex_opt] {
                        if (*pcap_opt) return decode_pcap(d->pcap, d->teredo_only, d->pretty);
                        if (*hex_opt) return decode_hex(d->hex, d->pretty);
                        throw UsageError("decode: give --pcap FILE or --hex BYTES");
                      }});

  struct AddressOptions {
    std::string text, server, ipv4;
    std::uint16_t port = 0, random = 0;
    bool cone = false, pretty = false;
  };
  auto a = std::make_shared<AddressOptions>();
  auto* address = app.add_subcommand("address", "Decode a Teredo address, or build one from its parts");
  address->add_option("ADDR", a->text, "Teredo IPv6 address to decode");
  auto* server_opt = address->add_option("--server", a->server, "Server IPv4 address (to build)");
  auto* port_opt = address->add_option("--port", a->port, "Mapped UDP port (to build)");
  auto* ipv4_opt = address->add_option("--ipv4", a->ipv4, "Mapped IPv4 address (to build)");
  address->add_flag("--cone", a->cone, "Set the cone bit (to build)");
  address->add_option("--random", a->random, "Random flag bits, masked with 0x3CFF (to build)");
  address->add_flag("--pretty", a->pretty, "Indent the JSON");
  commands.push_back({address, [a, server_opt, port_opt, ipv4_opt] {
                        const bool building = *server_opt || *port_opt || *ipv4_opt;
                        if (building == !a->text.empty()) {
                          throw UsageError("address: give either ADDR or --server, --port and --ipv4");
                        }
                        if (!building) {
                          auto t = wire::parse_teredo(a->text);
                          if (!t) {
                            throw InputError(fmt::format("'{}' is not a Teredo address: {}", a->text,
                                                         wire::to_string(t.error())));
                          }
                          print(decode::describe_teredo_address(*t), a->pretty);
                          return kExitOk;
                        }
                        if (!*server_opt || !*port_opt || !*ipv4_opt) {
                          throw UsageError("address: building needs --server, --port and --ipv4");
                        }
                        const wire::TeredoAddress t{ipv4_arg("--server", a->server),
                                                    wire::make_teredo_flags(a->cone, a->random), a->port,
                                                    ipv4_arg("--ipv4", a->ipv4)};
                        print(decode::describe_teredo_address(t), a->pretty);
                        return kExitOk;
                      }});

  auto out = std::make_shared<std::string>();
  auto* samples = app.add_subcommand("samples", "Write the project's own sample Teredo capture");
  samples->add_option("--out", *out, "Output pcap path")->required();
  commands.push_back({samples, [out] {
                        samples::write_lifecycle_pcap(*out);
                        return kExitOk;
                      }});
  return commands;
}

}  // namespace teredo::cli
