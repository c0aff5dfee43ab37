#include "kit/judge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "kit/datagram.hpp"

namespace teredo::conformance::kit {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::pass: return "pass";
    case Outcome::fail: return "fail";
    case Outcome::inconclusive: return "inconclusive";
  }
  return "?";
}

Control either(Control first, Control second) {
  return [first = std::move(first), second = std::move(second)](CaseRun& run) -> std::optional<std::string> {
    const auto a = first(run);
    if (!a) return std::nullopt;
    const auto b = second(run);
    if (!b) return std::nullopt;
    return *a + ", and " + *b;
  };
}

std::optional<CapturedFrame> find_reaction(const Probe& probe, const std::vector<CapturedFrame>& frames) {
  const std::string own_file = probe.capture + ".pcap";
  const auto own = [&](std::uint64_t number) {
    return std::any_of(probe.sent.begin(), probe.sent.end(),
                        [&](const FrameRef& r) { return r.capture == own_file && r.frame == number; });
  };
  for (const CapturedFrame& f : frames) {
    if (f.number <= probe.after || own(f.number)) continue;
    if (probe.reaction && probe.reaction(f)) return f;
  }
  return std::nullopt;
}

std::vector<Judgement> judge_silence(const std::vector<std::string>& requirements, const std::vector<Probe>& probes,
                                     const std::vector<std::optional<Reaction>>& reactions, bool control_ran,
                                     const std::optional<std::string>& control_failure,
                                     std::chrono::milliseconds window) {
  std::vector<Judgement> out;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const Probe& p = probes[i];
    const std::optional<Reaction> reaction = i < reactions.size() ? reactions[i] : std::nullopt;
    for (const auto& requirement : requirements) {
      Judgement j;
      j.requirement = requirement;
      j.expected = p.expected;
      j.frames = p.sent;
      if (reaction) {
        j.outcome = Outcome::fail;
        j.observed = reaction->description + " after " + p.what;
        j.frames.push_back(FrameRef{p.capture + ".pcap", reaction->frame});
        j.code = p.code;
      } else if (!control_ran) {
        j.outcome = Outcome::inconclusive;
        j.observed = "no reaction to " + p.what + " within " + ms(window) +
                     ", but no control packet followed: the silence proves nothing";
        j.code = kNoControl;
      } else if (control_failure) {
        j.outcome = Outcome::inconclusive;
        j.observed = "no reaction to " + p.what + " within " + ms(window) + ", but " + *control_failure +
                     ": the silence proves nothing";
        j.code = kControlUnanswered;
      } else {
        j.outcome = Outcome::pass;
        j.observed = "nothing within " + ms(window) + " after " + p.what + " (and the control was answered)";
        j.code = kDiscardProven;
      }
      out.push_back(std::move(j));
    }
  }
  return out;
}

Judgement sent_judgement(const std::string& requirement, bool seen, bool ok, std::string expected,
                         std::string observed, std::vector<FrameRef> frames, std::string fail_code,
                         std::string why_silent) {
  Judgement j;
  j.requirement = requirement;
  j.expected = std::move(expected);
  j.frames = std::move(frames);
  if (!seen) {
    j.outcome = Outcome::inconclusive;
    j.observed = std::move(why_silent) + ": silence proves nothing about what the IUT sends";
    j.code = kNothingSent;
    return j;
  }
  j.observed = std::move(observed);
  j.outcome = ok ? Outcome::pass : Outcome::fail;
  j.code = ok ? kSentAsRequired : std::move(fail_code);
  return j;
}

Judgement alternate_address_absent(const std::vector<CapturedDatagram>& sent, const std::string& who) {
  std::vector<FrameRef> carrying, checked;
  std::string listed;
  for (const auto& d : sent) {
    if (checked.size() < 8) checked.push_back(frame_ref(d));
    wire::Trailer t;
    if (!d.datagram || !wire::find_trailer(d.datagram->ipv6.trailer, wire::kTrailerAlternateAddress, t)) continue;
    if (carrying.size() < 8) carrying.push_back(frame_ref(d));
    listed += (listed.empty() ? "" : "; ") + describe(d);
  }
  const bool ok = carrying.empty();
  return sent_judgement(
      "R6081-4.3-01", !sent.empty(), ok,
      "no Alternate Address Trailer (type 0x03) after the IPv6 packet of any datagram " + who +
          " sent (RFC 6081 §4.3: only a Teredo client's indirect bubbles may carry one)",
      ok ? std::to_string(sent.size()) + " datagrams from " + who + ", none with a type 0x03 trailer"
         : "an Alternate Address Trailer in " + listed,
      ok ? std::move(checked) : std::move(carrying), kAlternateAddressTrailerSent,
      "no datagram from " + who + " was captured");
}

Judgement unanswered_judgement(const std::string& requirement, const std::string& what, std::string expected,
                               std::vector<FrameRef> sent, const std::optional<std::string>& control_failure,
                               std::string discard_code, std::chrono::milliseconds window) {
  Judgement j;
  j.requirement = requirement;
  j.expected = std::move(expected);
  j.frames = std::move(sent);
  if (control_failure) {
    j.outcome = Outcome::inconclusive;
    j.observed = "no reaction to " + what + " within " + ms(window) + ", but " + *control_failure +
                 ": the silence proves nothing";
    j.code = kControlUnanswered;
  } else {
    j.outcome = Outcome::fail;
    j.observed = "no reaction to " + what + " within " + ms(window) +
                 ", while a later control was answered: the IUT discarded it";
    j.code = std::move(discard_code);
  }
  return j;
}

void judge_unanswered(CaseRun& run, const std::vector<std::string>& requirements, const std::string& what,
                      const std::string& expected, const std::vector<FrameRef>& sent, const Control& control,
                      AssertionCode discard_code, std::chrono::milliseconds window) {
  const std::optional<std::string> control_failure =
      control ? control(run) : std::optional<std::string>("no control packet followed");
  std::vector<Judgement> out;
  for (const auto& requirement : requirements) {
    out.push_back(unanswered_judgement(requirement, what, expected, sent, control_failure,
                                       std::string(discard_code.name()), window));
  }
  record(run, out);
}

void record(CaseRun& run, const std::vector<Judgement>& judgements) {
  for (const Judgement& j : judgements) {
    if (j.outcome == Outcome::inconclusive) {
      run.inconclusive(j.requirement, j.observed, AssertionCode::checked(j.code));
    } else {
      run.check(j.requirement, AssertionCode::checked(j.code), j.outcome == Outcome::pass, j.expected, j.observed,
                j.frames);
    }
  }
}

void judge_silence(CaseRun& run, const std::vector<std::string>& requirements, const std::vector<Probe>& probes,
                   const Control& control) {
  std::this_thread::sleep_for(timeout::silence_window);
  std::vector<std::optional<Reaction>> reactions;
  bool any_silent = false;
  for (const Probe& p : probes) {
    Capture& capture = run.capture(p.capture);
    const auto found = find_reaction(p, capture.frames(p.reaction, p.after));
    if (found) {
      reactions.push_back(Reaction{found->number, describe_frame(*found, capture.link_type(), p.capture)});
    } else {
      reactions.emplace_back();
      any_silent = true;
    }
  }
  std::optional<std::string> control_failure;
  const bool control_ran = any_silent && static_cast<bool>(control);
  if (control_ran) control_failure = control(run);
  record(run, judge_silence(requirements, probes, reactions, control_ran, control_failure));
}

}  // namespace teredo::conformance::kit
