// udp_echo ADDRESS PORT: a trivial batched UDP echo (recvmmsg/sendmmsg, 64 at
// a time), the floor against which a Teredo server's cost per request is read.
// Stops on SIGTERM/SIGINT.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: udp_echo ADDRESS PORT\n");
    return 3;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &local.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    std::perror("udp_echo: bind");
    return 2;
  }
  timeval tv{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  constexpr int kBatch = 64;
  static char buffers[kBatch][2048];
  mmsghdr messages[kBatch];
  iovec iov[kBatch];
  sockaddr_in peers[kBatch];
  while (!g_stop) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {buffers[i], sizeof buffers[i]};
      messages[i] = {};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &peers[i];
      messages[i].msg_hdr.msg_namelen = sizeof peers[i];
    }
    const int n = recvmmsg(fd, messages, kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;
    for (int i = 0; i < n; ++i) iov[i].iov_len = messages[i].msg_len;
    sendmmsg(fd, messages, static_cast<unsigned>(n), 0);
  }
  return 0;
}
