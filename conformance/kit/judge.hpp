// The one probe / silence / control-barrier judgement of every role
// (ANCHORS.md §4: negative cases matter, explicit timing), and the rule for
// requirements about what the IUT sends.
//
// A negative case sends its probes, waits the silence window, then sends a
// valid control packet (the barrier). A probe's silence proves a discard only
// when the later control is answered: a live IUT that answers nothing makes
// the probe inconclusive, never a pass. A reaction is attributed to a probe by
// its content (the probe's matcher: addresses, ports, nonce, payload marker),
// never by when it came, and never to a frame the driver sent itself.
//
// The judgement itself is pure (judge_silence over found reactions, and
// sent_judgement): tests/kit/judge_test.cpp runs it on synthetic captures.
// The CaseRun overloads wait, look in the captures and record.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/capture.hpp"
#include "engine/case.hpp"
#include "kit/datagram.hpp"
#include "kit/match.hpp"
#include "kit/timing.hpp"

namespace teredo::conformance::kit {

// A stimulus the IUT must discard.
struct Probe {
  std::string what{};            // "an RS with hop limit 254 sent from ... (frame 3)"
  std::vector<FrameRef> sent{};  // the probe's own frames: cited, never taken for a reaction
  std::string capture = "driver";  // where a reaction would show
  std::uint64_t after = 0;         // that capture's last frame before the probe
  FrameMatch reaction{};           // what an IUT that did not discard it would send, by content
  std::string expected{};          // "silently discarded: no datagram to ... within 1000 ms"
  std::string code = "probe_not_discarded";  // the named reason of a fail
};

// A control barrier: nullopt when the IUT did what a valid packet asks (it is
// alive and able to act), otherwise why not.
using Control = std::function<std::optional<std::string>(CaseRun&)>;

// Either control: the first answered proves the IUT alive (the second runs
// only when the first was not answered); both unanswered give both reasons.
Control either(Control first, Control second);

enum class Outcome { pass, fail, inconclusive };
const char* to_string(Outcome o);

// One assertion, before it is recorded.
struct Judgement {
  std::string requirement{};
  Outcome outcome = Outcome::inconclusive;
  std::string expected{}, observed{};  // observed: why, for an inconclusive one
  std::vector<FrameRef> frames{};
  std::string code{};
};

// Codes of the silence judgement.
inline constexpr const char* kDiscardProven = "discard_proven";          // silence, control answered
inline constexpr const char* kControlUnanswered = "control_unanswered";  // silence, control not answered
inline constexpr const char* kNoControl = "no_control_barrier";          // silence, no control to prove it
// Codes of a judgement about what the IUT sends.
inline constexpr const char* kSentAsRequired = "sent_as_required";
inline constexpr const char* kNothingSent = "nothing_sent";  // silence: inconclusive

// The probe's reaction among one capture's frames (in capture order): the
// first after probe.after that its matcher accepts and that is not one of
// the probe's own frames.
std::optional<CapturedFrame> find_reaction(const Probe& probe, const std::vector<CapturedFrame>& frames);

struct Reaction {
  std::uint64_t frame = 0;
  std::string description{};  // "RA ... from 203.0.113.1:3544 to ... (driver frame 9)"
};
// For every probe and requirement: a fail when the probe met a reaction; a
// pass when it met silence and the control was answered (`control_failure`
// nullopt, `control_ran` true); else inconclusive saying why.
std::vector<Judgement> judge_silence(const std::vector<std::string>& requirements, const std::vector<Probe>& probes,
                                     const std::vector<std::optional<Reaction>>& reactions, bool control_ran,
                                     const std::optional<std::string>& control_failure,
                                     std::chrono::milliseconds window = timeout::silence_window);

// A requirement about what the IUT sends (a reply, a bubble, an RS): when
// something was seen it is judged (`ok`); silence is never a fail, it is
// inconclusive and says `why_silent`.
Judgement sent_judgement(const std::string& requirement, bool seen, bool ok, std::string expected,
                         std::string observed, std::vector<FrameRef> frames, std::string fail_code,
                         std::string why_silent);

// RFC 6081 §4.3 (R6081-4.3-01): "The Alternate Address Trailer MUST NOT be
// present in any packets other than indirect bubbles sent by a Teredo
// client." Judged on the datagrams a server or relay IUT sent (`sent`, named
// by `who` in the verdict) in a case none of whose stimuli carried the
// trailer, so none of them is a client's bubble passed on: a fail cites each
// one that carries a type 0x03 trailer; no datagram at all is inconclusive.
inline constexpr const char* kAlternateAddressTrailerSent = "alternate_address_trailer_sent";
Judgement alternate_address_absent(const std::vector<CapturedDatagram>& sent, const std::string& who);
// A stimulus the IUT must act on (answer it, forward it) that met no
// reaction within `window`. The silence proves a discard only when a later
// control was answered (`control_failure` nullopt), and discarding what the
// requirement says must be processed is a fail with `discard_code`; with the
// control unanswered too it is inconclusive (kControlUnanswered). A reaction
// that came is judged by the case, not here.
Judgement unanswered_judgement(const std::string& requirement, const std::string& what, std::string expected,
                               std::vector<FrameRef> sent, const std::optional<std::string>& control_failure,
                               std::string discard_code, std::chrono::milliseconds window);
// The same, running `control` and recording the judgement.
void judge_unanswered(CaseRun& run, const std::vector<std::string>& requirements, const std::string& what,
                      const std::string& expected, const std::vector<FrameRef>& sent, const Control& control,
                      AssertionCode discard_code, std::chrono::milliseconds window);

// Records judgements as the case's assertions.
void record(CaseRun& run, const std::vector<Judgement>& judgements);

// Waits out the silence window after the last probe, looks for each probe's
// reaction in its capture, runs `control` when a probe met silence, and
// records the judgements.
void judge_silence(CaseRun& run, const std::vector<std::string>& requirements, const std::vector<Probe>& probes,
                   const Control& control);

}  // namespace teredo::conformance::kit
