// Frames copied byte for byte from public captures in ../shared/pcaps-public
// (see SOURCES.md there), with the field values TShark 4.0.17 shows for them.
// They are independent vectors: nobody on this project produced these bytes,
// and the expected values in the tests come from tshark, not from our codec.
//
// Extracted with:  tshark -r FILE -Y frame.number==N -x
// Field values:    tshark -r FILE -Y frame.number==N -V
//                  (plus --enable-heuristic teredo_udp where noted)
#pragma once

#include <cstddef>
#include <string_view>

namespace teredo::wire::test::captures {

// Ethernet II (14) + IPv4 without options (20) + UDP (8).
inline constexpr std::size_t kEthIpv4UdpHeaders = 42;

// ndpi-teredo.pcap frame 1 (103 bytes): 10.112.16.106:52513 -> 194.136.28.76:3544,
// IPv4 id 0x59ba, TTL 126, header checksum 0xe92b, UDP length 69, UDP checksum
// 0x7d87. Teredo authentication: ID-len 0, AU-len 0, nonce b11b3fea46a9afe9,
// confirmation 0. IPv6 fe80::ffff:ffff:fffe -> ff02::2, payload length 8, next
// header 58, hop limit 255. ICMPv6 Router Solicitation, code 0, checksum
// 0x7d38 [correct], reserved 0, no options.
inline constexpr std::string_view kNdpiFrame1 =
    "6c 41 6a 8c 80 89 00 1b 17 00 01 15 08 00 45 00"
    "00 59 59 ba 00 00 7e 11 e9 2b 0a 70 10 6a c2 88"
    "1c 4c cd 21 0d d8 00 45 7d 87 00 01 00 00 b1 1b"
    "3f ea 46 a9 af e9 00 60 00 00 00 00 08 3a ff fe"
    "80 00 00 00 00 00 00 00 00 ff ff ff ff ff fe ff"
    "02 00 00 00 00 00 00 00 00 00 00 00 00 00 02 85"
    "00 7d 38 00 00 00 00";

// ndpi-teredo.pcap frame 2 (151 bytes): 194.136.28.76:3544 -> 10.112.16.106:52513,
// UDP length 117. Teredo authentication: ID-len 0, AU-len 0, nonce
// b11b3fea46a9afe9, confirmation 0. Origin indication: port 52513, address
// 185.6.192.185. IPv6 fe80::8000:f227:3d77:e3b3 -> fe80::ffff:ffff:fffe, payload
// length 48, hop limit 255. ICMPv6 Router Advertisement, code 0, checksum
// 0x649d [correct], cur hop limit 0, flags 0x00, router lifetime 0, reachable
// time 15000, retrans timer 2000. One option: prefix information (type 3,
// length 4), prefix length 64, flags 0x40 (A, not L), valid and preferred
// lifetime 4294967295, prefix 2001:0:c288:1c4c:ff00:0:20:100.
inline constexpr std::string_view kNdpiFrame2 =
    "00 1b 17 00 01 15 6c 41 6a 8c 80 89 08 00 45 00"
    "00 89 31 be 00 00 72 11 1c f8 c2 88 1c 4c 0a 70"
    "10 6a 0d d8 cd 21 00 75 5f 6e 00 01 00 00 b1 1b"
    "3f ea 46 a9 af e9 00 00 00 32 de 46 f9 3f 46 60"
    "00 00 00 00 30 3a ff fe 80 00 00 00 00 00 00 80"
    "00 f2 27 3d 77 e3 b3 fe 80 00 00 00 00 00 00 00"
    "00 ff ff ff ff ff fe 86 00 64 9d 00 00 00 00 00"
    "00 3a 98 00 00 07 d0 03 04 40 40 ff ff ff ff ff"
    "ff ff ff 00 00 00 00 20 01 00 00 c2 88 1c 4c ff"
    "00 00 00 00 20 01 00";

// ndpi-teredo.pcap frame 9 (94 bytes): 10.112.16.67:51812 -> 194.136.28.76:3544,
// simple encapsulation. IPv6 2001:0:c288:1c4c:20f3:359b:46f9:3f46 ->
// 2002:c288:1c4c::c288:1c4d, payload length 12, hop limit 21. ICMPv6 echo
// request, code 0, checksum 0xeb08, identifier 0x28f0, sequence 45679, data 00000000.
// tshark's Teredo-address fields for the source: server 194.136.28.76, client
// port 51812, client IPv4 185.6.192.185.
inline constexpr std::string_view kNdpiFrame9 =
    "6c 41 6a 8c 80 89 00 1b 17 00 01 15 08 00 45 00"
    "00 50 6b 54 00 00 7e 11 d7 c1 0a 70 10 43 c2 88"
    "1c 4c ca 64 0d d8 00 3c 93 d6 60 00 00 00 00 0c"
    "3a 15 20 01 00 00 c2 88 1c 4c 20 f3 35 9b 46 f9"
    "3f 46 20 02 c2 88 1c 4c 00 00 00 00 00 00 c2 88"
    "1c 4d 80 00 eb 08 28 f0 b2 6f 00 00 00 00";

// ndpi-teredo.pcap frame 15 (90 bytes): 194.136.28.76:3544 -> 10.112.16.67:51812.
// Origin indication: port 3544, address 194.136.28.76. IPv6 bubble: next
// header 59, payload length 0, hop limit 21, fe80::8000:f227:3d77:e3b3 ->
// 2001:0:c288:1c4c:20f3:359b:46f9:3f46.
inline constexpr std::string_view kNdpiFrame15 =
    "00 1b 17 00 01 15 6c 41 6a 8c 80 89 08 00 45 00"
    "00 4c 31 c4 00 00 72 11 1d 56 c2 88 1c 4c 0a 70"
    "10 43 0d d8 ca 64 00 38 11 d9 00 00 f2 27 3d 77"
    "e3 b3 60 00 00 00 00 00 3b 15 fe 80 00 00 00 00"
    "00 00 80 00 f2 27 3d 77 e3 b3 20 01 00 00 c2 88"
    "1c 4c 20 f3 35 9b 46 f9 3f 46";

// ndpi-teredo.pcap frame 16 (82 bytes): 10.112.16.67:51812 -> 194.136.28.76:3544,
// simple encapsulation. IPv6 bubble, hop limit 21,
// 2001:0:c288:1c4c:20f3:359b:46f9:3f46 -> fe80::8000:f227:3d77:e3b3.
inline constexpr std::string_view kNdpiFrame16 =
    "6c 41 6a 8c 80 89 00 1b 17 00 01 15 08 00 45 00"
    "00 44 6b a0 00 00 7e 11 d7 81 0a 70 10 43 c2 88"
    "1c 4c ca 64 0d d8 00 30 25 3c 60 00 00 00 00 00"
    "3b 15 20 01 00 00 c2 88 1c 4c 20 f3 35 9b 46 f9"
    "3f 46 fe 80 00 00 00 00 00 00 80 00 f2 27 3d 77"
    "e3 b3";

// zeek-gtp8_teredo.pcap frame 1 (138 bytes): outer IPv4 174.94.190.213 ->
// 190.104.181.57, UDP 2152 -> 2152 (GTP-U, flags 0x30, T-PDU, TEID 0x981137bc).
// Inner IPv4 172.24.204.200 -> 65.55.158.118, UDP 56528 -> 3544, length 68,
// UDP payload 60 bytes: an IPv6 bubble (next header 59, payload length 0, hop
// limit 21, 2001:0:5ef5:79fd:3ca5:6ae6:2b37:be97 -> 2001:0:4137:9e76:201a:3f51:3afd:573e)
// followed by 20 bytes of RFC 6081 trailers.
inline constexpr std::string_view kGtpFrame1 =
    "00 00 0c 07 ac e8 88 e0 f3 c8 bf f0 08 00 45 00"
    "00 7c 00 00 00 00 3c 11 9d 9b ae 5e be d5 be 68"
    "b5 39 08 68 08 68 00 68 65 37 30 ff 00 58 98 11"
    "37 bc 45 00 00 58 42 a0 00 00 80 11 9f 66 ac 18"
    "cc c8 41 37 9e 76 dc d0 0d d8 00 44 91 24 60 00"
    "00 00 00 00 3b 15 20 01 00 00 5e f5 79 fd 3c a5"
    "6a e6 2b 37 be 97 20 01 00 00 41 37 9e 76 20 1a"
    "3f 51 3a fd 57 3e 01 04 77 a0 5e 76 03 08 00 00"
    "ac 18 cc c8 dc d0 05 02 df 78";
// Offset of the inner UDP payload in kGtpFrame1: 42 outer + 8 GTP-U + 20 IPv4 + 8 UDP.
inline constexpr std::size_t kGtpFrame1InnerPayload = 78;

// zeek-teredo-udp-in-udp.pcap frame 1 (135 bytes): IPv6 outer (a fuzz reproducer).
// IPv6 ::38:5f55:6265:726b -> 2090:9090:9090:9090:9090:9000::, payload length 81,
// next header 17, hop limit 64. UDP 25977 -> 25964, length 81, payload 73 bytes.
// With --enable-heuristic teredo_udp: origin indication port 59135, address
// 255.255.255.252, then an IPv6 packet (next header 17, payload length 25).
inline constexpr std::string_view kUdpInUdpFrame1 =
    "00 00 00 00 00 02 00 00 00 00 00 01 86 dd 60 00"
    "00 00 00 51 11 40 00 00 00 00 00 00 00 00 00 38"
    "5f 55 62 65 72 6b 20 90 90 90 90 90 90 90 90 90"
    "90 00 00 00 00 00 65 79 65 6c 00 51 08 9f 00 00"
    "19 00 00 00 00 03 65 64 75 00 00 19 11 40 00 00"
    "00 00 00 00 00 00 00 38 5f 55 62 65 72 6b 20 90"
    "90 90 90 90 90 90 90 90 90 00 00 00 00 00 65 79"
    "65 6c 00 19 6a 34 00 61 74 65 64 55 00 00 00 00"
    "65 55 00 00 00 00 65";
// Ethernet (14) + IPv6 (40) + UDP (8).
inline constexpr std::size_t kUdpInUdpPayload = 62;

}  // namespace teredo::wire::test::captures
