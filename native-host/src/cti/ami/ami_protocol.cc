#include "cti/ami/ami_protocol.h"

#include <charconv>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include <openssl/evp.h>

#include "cti/text_util.h"

namespace omnibridge::cti::ami {
namespace {

using text::Av;
using text::EqualsIgnoreCase;

std::string_view StripLeadingBlanks(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
    ++i;
  return s.substr(i);
}

std::string_view StripTrailingBlanks(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

int ToInt(std::string_view s, int fallback = 0) {
  s = StripLeadingBlanks(s);
  int value = fallback;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc())
    return fallback;
  return value;
}

bool ToBool(std::string_view s) {
  return s == "1" || EqualsIgnoreCase(s, "true") || EqualsIgnoreCase(s, "yes") ||
         EqualsIgnoreCase(s, "on");
}

// Splits "NAME=value" (a ChanVariable); values may contain '='.
std::pair<std::string_view, std::string_view> SplitVariable(std::string_view s) {
  size_t eq = s.find('=');
  if (eq == std::string_view::npos)
    return {s, {}};
  return {s.substr(0, eq), s.substr(eq + 1)};
}

// Asterisk writes "<unknown>" where a caller id is unset.
std::string_view CallerIdOrEmpty(std::string_view s) { return s == "<unknown>" ? "" : s; }

// Fills one channel snapshot field if `name` (with any "Dest" prefix removed) is one. Returns
// false when `name` is not a snapshot field.
bool SetChannelField(ChannelInfo& info, std::string_view name, std::string_view value) {
  switch (name.size()) {
    case 5:
      if (EqualsIgnoreCase(name, "Exten")) {
        info.exten = value;
        return true;
      }
      return false;
    case 7:
      if (EqualsIgnoreCase(name, "Channel")) {
        info.channel = value;
        return true;
      }
      if (EqualsIgnoreCase(name, "Context")) {
        info.context = value;
        return true;
      }
      return false;
    case 8:
      if (EqualsIgnoreCase(name, "Uniqueid")) {
        info.uniqueid = value;
        return true;
      }
      if (EqualsIgnoreCase(name, "Linkedid")) {
        info.linkedid = value;
        return true;
      }
      return false;
    case 11:
      if (EqualsIgnoreCase(name, "CallerIDNum")) {
        info.caller_num = CallerIdOrEmpty(value);
        return true;
      }
      return false;
    case 12:
      if (EqualsIgnoreCase(name, "ChannelState")) {
        info.state = ToInt(value, -1);
        return true;
      }
      if (EqualsIgnoreCase(name, "CallerIDName")) {
        info.caller_name = CallerIdOrEmpty(value);
        return true;
      }
      if (EqualsIgnoreCase(name, "ChanVariable")) {
        info.vars.push_back(SplitVariable(value));
        return true;
      }
      return false;
    case 16:
      if (EqualsIgnoreCase(name, "ConnectedLineNum")) {
        info.connected_num = CallerIdOrEmpty(value);
        return true;
      }
      return false;
    case 17:
      if (EqualsIgnoreCase(name, "ConnectedLineName")) {
        info.connected_name = CallerIdOrEmpty(value);
        return true;
      }
      return false;
    default:
      return false;
  }
  return false;
}

// Everything an event may carry, gathered in one pass over its headers.
struct Scan {
  ChannelInfo caller;
  ChannelInfo dest;
  std::string_view queue, interface, member_name, state_interface, reason, paused_reason;
  std::string_view paused, status, in_call, ring_time, hold_time, talk_time, cause, position;
  std::string_view variable, var_value, hold_status;
  // Asterisk 11 spellings.
  std::string_view legacy_interface, legacy_member_name, legacy_caller_channel, legacy_dest_channel;
};

void ScanEvent(const AmiMessage& m, Scan& s) {
  for (size_t i = 0; i < m.size(); ++i) {
    std::string_view name = m.name(i);
    std::string_view value = m.value(i);
    if (name.size() > 4 && text::StartsWithIgnoreCase(name, "Dest") &&
        SetChannelField(s.dest, name.substr(4), value)) {
      continue;
    }
    if (SetChannelField(s.caller, name, value))
      continue;
    if (EqualsIgnoreCase(name, "Queue")) {
      s.queue = value;
    } else if (EqualsIgnoreCase(name, "Interface") || EqualsIgnoreCase(name, "Location")) {
      s.interface = value;
    } else if (EqualsIgnoreCase(name, "MemberName") || EqualsIgnoreCase(name, "Name")) {
      s.member_name = value;
    } else if (EqualsIgnoreCase(name, "StateInterface")) {
      s.state_interface = value;
    } else if (EqualsIgnoreCase(name, "Paused")) {
      s.paused = value;
    } else if (EqualsIgnoreCase(name, "PausedReason")) {
      s.paused_reason = value;
    } else if (EqualsIgnoreCase(name, "Reason")) {
      s.reason = value;
    } else if (EqualsIgnoreCase(name, "Status")) {
      s.status = value;
      s.hold_status = value;
    } else if (EqualsIgnoreCase(name, "InCall")) {
      s.in_call = value;
    } else if (EqualsIgnoreCase(name, "RingTime")) {
      s.ring_time = value;
    } else if (EqualsIgnoreCase(name, "HoldTime")) {
      s.hold_time = value;
    } else if (EqualsIgnoreCase(name, "TalkTime")) {
      s.talk_time = value;
    } else if (EqualsIgnoreCase(name, "Cause")) {
      s.cause = value;
    } else if (EqualsIgnoreCase(name, "Position")) {
      s.position = value;
    } else if (EqualsIgnoreCase(name, "Variable")) {
      s.variable = value;
    } else if (EqualsIgnoreCase(name, "Value")) {
      s.var_value = value;
    } else if (EqualsIgnoreCase(name, "AgentCalled")) {
      s.legacy_interface = value;
    } else if (EqualsIgnoreCase(name, "AgentName")) {
      s.legacy_member_name = value;
    } else if (EqualsIgnoreCase(name, "ChannelCalling")) {
      s.legacy_caller_channel = value;
    } else if (EqualsIgnoreCase(name, "DestinationChannel")) {
      s.legacy_dest_channel = value;
    }
  }
  // Before Asterisk 12 there was no Linkedid: the leg's own id is the best call id there is.
  if (s.caller.linkedid.empty())
    s.caller.linkedid = s.caller.uniqueid;
  if (s.dest.linkedid.empty())
    s.dest.linkedid = s.dest.uniqueid;
}

std::string_view PauseReason(const Scan& s) {
  if (!s.paused_reason.empty())
    return s.paused_reason;
  // Asterisk 13–16 also sent a separate "Reason:"; "<nil>" is a known fixture artefact.
  if (s.reason == "<nil>")
    return "";
  return s.reason;
}

void EmitMember(const Scan& s, MemberEvent::Kind kind, bool snapshot,
                absl::FunctionRef<void(const CtiEvent&)> emit) {
  MemberEvent e;
  e.kind = kind;
  e.queue = s.queue;
  e.interface = s.interface;
  e.member_name = s.member_name;
  e.state_interface = s.state_interface;
  e.paused = ToBool(s.paused);
  e.reason = e.paused ? PauseReason(s) : std::string_view();
  e.device_status = ToInt(s.status);
  e.in_call = ToBool(s.in_call);
  e.snapshot = snapshot;
  emit(CtiEvent(std::move(e)));
}

void EmitMemberCall(Scan& s, MemberCallEvent::Kind kind,
                    absl::FunctionRef<void(const CtiEvent&)> emit) {
  MemberCallEvent e;
  e.kind = kind;
  if (s.caller.channel.empty())
    s.caller.channel = s.legacy_caller_channel;
  if (s.dest.channel.empty())
    s.dest.channel = s.legacy_dest_channel;
  e.caller = std::move(s.caller);
  e.member = std::move(s.dest);
  e.queue = s.queue;
  e.interface = s.interface.empty() ? s.legacy_interface : s.interface;
  e.member_name = s.member_name.empty() ? s.legacy_member_name : s.member_name;
  e.reason = s.reason;
  // AgentRingNoAnswer's RingTime is in milliseconds, AgentConnect's in seconds (app_queue.c).
  e.ring_time = kind == MemberCallEvent::Kind::kNoAnswer ? absl::Milliseconds(ToInt(s.ring_time))
                                                         : absl::Seconds(ToInt(s.ring_time));
  e.hold_time = absl::Seconds(ToInt(s.hold_time));
  e.talk_time = absl::Seconds(ToInt(s.talk_time));
  emit(CtiEvent(std::move(e)));
}

void EmitQueueCaller(Scan& s, QueueCallerEvent::Kind kind,
                     absl::FunctionRef<void(const CtiEvent&)> emit) {
  QueueCallerEvent e;
  e.kind = kind;
  e.caller = std::move(s.caller);
  e.queue = s.queue;
  e.position = ToInt(s.position);
  emit(CtiEvent(std::move(e)));
}

void EmitChannel(Scan& s, ChannelEvent::Kind kind, absl::FunctionRef<void(const CtiEvent&)> emit) {
  ChannelEvent e;
  e.kind = kind;
  e.channel = std::move(s.caller);
  e.cause = ToInt(s.cause);
  if (kind == ChannelEvent::Kind::kVarSet) {
    std::string_view var = s.variable;
    while (!var.empty() && var.front() == '_')
      var.remove_prefix(1);
    e.var_name = var;
    e.var_value = s.var_value;
  }
  emit(CtiEvent(std::move(e)));
}

}  // namespace

// ------------------------------------------------------------------------------------ AmiMessage

std::optional<std::string_view> AmiMessage::Find(std::string_view name) const {
  for (const Field& f : fields_) {
    if (f.name_len == name.size() && EqualsIgnoreCase(View(f.name_off, f.name_len), name)) {
      return View(f.value_off, f.value_len);
    }
  }
  return std::nullopt;
}

std::vector<std::string_view> AmiMessage::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Field& f : fields_) {
    if (f.name_len == name.size() && EqualsIgnoreCase(View(f.name_off, f.name_len), name)) {
      out.push_back(View(f.value_off, f.value_len));
    }
  }
  return out;
}

void AmiMessage::Clear() {
  data_.clear();
  fields_.clear();
  banner_ = false;
}

void AmiMessage::SetBanner(std::string_view line) {
  Clear();
  banner_ = true;
  data_.assign(line);
}

void AmiMessage::Add(std::string_view name, std::string_view value) {
  Field f;
  f.name_off = static_cast<uint32_t>(data_.size());
  f.name_len = static_cast<uint32_t>(name.size());
  f.value_off = static_cast<uint32_t>(data_.size() + name.size());
  f.value_len = static_cast<uint32_t>(value.size());
  data_.reserve(data_.size() + name.size() + value.size());
  data_.append(name).append(value);
  fields_.push_back(f);
}

// ------------------------------------------------------------------------------------- AmiParser

AmiParser::AmiParser(Limits limits, bool expect_banner)
    : limits_(limits), expect_banner_(expect_banner) {}

void AmiParser::Reset(bool expect_banner) {
  expect_banner_ = expect_banner;
  partial_line_.clear();
  skipping_line_ = false;
  dropping_packet_ = false;
  packet_bytes_ = 0;
  message_.Clear();
}

void AmiParser::DropPacket(ErrorFn on_error, std::string_view why) {
  expect_banner_ = false;
  if (!dropping_packet_) {
    on_error(absl::ResourceExhaustedError(absl::StrCat("AMI packet dropped: ", Av(why))));
  }
  dropping_packet_ = true;
  packet_bytes_ = 0;
  message_.Clear();
}

void AmiParser::Feed(std::string_view bytes, MessageFn on_message, ErrorFn on_error) {
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    if (skipping_line_) {
      if (nl == std::string_view::npos)
        return;
      skipping_line_ = false;
      bytes.remove_prefix(nl + 1);
      continue;
    }
    if (nl == std::string_view::npos) {
      if (partial_line_.size() + bytes.size() > limits_.max_line_bytes) {
        partial_line_.clear();
        skipping_line_ = true;
        DropPacket(on_error, "line too long");
        return;
      }
      partial_line_.append(bytes);
      return;
    }
    std::string_view line = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    if (partial_line_.size() + line.size() > limits_.max_line_bytes) {
      partial_line_.clear();
      DropPacket(on_error, "line too long");
      continue;
    }
    if (partial_line_.empty()) {
      OnLine(line, on_message, on_error);
    } else {
      partial_line_.append(line);
      // OnLine may not touch partial_line_, so a view of it stays valid during the call.
      OnLine(partial_line_, on_message, on_error);
      partial_line_.clear();
    }
  }
}

void AmiParser::OnLine(std::string_view line, MessageFn on_message, ErrorFn on_error) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  if (expect_banner_) {
    expect_banner_ = false;
    // A peer that skips the banner starts straight with a header line: parse it as one.
    if (!line.empty() && line.find(':') == std::string_view::npos) {
      message_.SetBanner(line);
      on_message(message_);
      message_.Clear();
      return;
    }
  }
  if (line.empty()) {
    if (!dropping_packet_ && message_.size() > 0)
      on_message(message_);
    dropping_packet_ = false;
    packet_bytes_ = 0;
    message_.Clear();
    return;
  }
  if (dropping_packet_)
    return;
  packet_bytes_ += line.size();
  if (message_.size() >= limits_.max_headers) {
    DropPacket(on_error, "too many headers");
    return;
  }
  if (packet_bytes_ > limits_.max_packet_bytes) {
    DropPacket(on_error, "packet too large");
    return;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    // Raw text (Asterisk 13 "Response: Follows" command output): kept under an empty name.
    message_.Add("", line);
  } else {
    message_.Add(StripTrailingBlanks(line.substr(0, colon)),
                 StripLeadingBlanks(line.substr(colon + 1)));
  }
}

// ------------------------------------------------------------------------------------ Serializer

absl::Status SerializeAction(const AmiAction& action, std::string_view action_id,
                             std::string* out) {
  auto bad_value = [](std::string_view v) {
    return v.find_first_of("\r\n") != std::string_view::npos;
  };
  auto bad_name = [&](std::string_view n) {
    return n.empty() || bad_value(n) || n.find(':') != std::string_view::npos;
  };
  if (bad_name(action.name) || bad_value(action_id)) {
    return absl::InvalidArgumentError("AMI action name or ActionID is not a valid header value");
  }
  for (const auto& [name, value] : action.headers) {
    if (bad_name(name))
      return absl::InvalidArgumentError("AMI header name is invalid");
    if (bad_value(value)) {
      return absl::InvalidArgumentError(absl::StrCat("AMI header ", name, " holds a line break"));
    }
  }
  absl::StrAppend(out, "Action: ", action.name, "\r\n");
  if (!action_id.empty())
    absl::StrAppend(out, "ActionID: ", Av(action_id), "\r\n");
  for (const auto& [name, value] : action.headers) {
    absl::StrAppend(out, name, ": ", value, "\r\n");
  }
  out->append("\r\n");
  return absl::OkStatus();
}

std::string Md5LoginKey(std::string_view challenge, std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  EVP_DigestUpdate(ctx, challenge.data(), challenge.size());
  EVP_DigestUpdate(ctx, secret.data(), secret.size());
  EVP_DigestFinal_ex(ctx, digest, &digest_len);
  EVP_MD_CTX_free(ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(digest_len * 2);
  for (unsigned int i = 0; i < digest_len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string MemberLegToRun(std::string_view member_channel) {
  std::string leg(member_channel);
  if (leg.size() >= 2 && leg.compare(leg.size() - 2, 2, ";1") == 0)
    leg.back() = '2';
  return leg;
}

// ------------------------------------------------------------------------------------ Translate

void TranslateEvent(const AmiMessage& event, bool snapshot,
                    absl::FunctionRef<void(const CtiEvent&)> emit) {
  const std::optional<std::string_view> name_or = event.Find("Event");
  if (!name_or)
    return;
  const std::string_view name = *name_or;
  if (name.empty())
    return;

  // Cheap rejection of the chatty events nobody here needs (DeviceStateChange, Newexten, RTCP...)
  // before the full scan.
  enum class Kind {
    kNone,
    kMemberStatus,
    kMemberPause,
    kMemberAdded,
    kMemberRemoved,
    kQueueMember,
    kOffered,
    kNoAnswer,
    kConnected,
    kCompleted,
    kDumped,
    kJoin,
    kLeave,
    kAbandon,
    kNewchannel,
    kNewstate,
    kCoreShowChannel,
    kHangup,
    kHold,
    kUnhold,
    kVarSet,
  };
  Kind kind = Kind::kNone;

  struct Entry {
    std::string_view name;
    Kind kind;
  };

  static constexpr Entry kTable[] = {
      {"QueueMemberStatus", Kind::kMemberStatus},
      {"QueueMemberPause", Kind::kMemberPause},
      {"QueueMemberPaused", Kind::kMemberPause},  // Asterisk ≤ 12.1
      {"QueueMemberAdded", Kind::kMemberAdded},
      {"QueueMemberRemoved", Kind::kMemberRemoved},
      {"QueueMemberPenalty", Kind::kMemberStatus},
      {"QueueMemberRinginuse", Kind::kMemberStatus},
      {"QueueMember", Kind::kQueueMember},  // QueueStatus list item
      {"AgentCalled", Kind::kOffered},
      {"AgentRingNoAnswer", Kind::kNoAnswer},
      {"AgentConnect", Kind::kConnected},
      {"AgentComplete", Kind::kCompleted},
      {"AgentDump", Kind::kDumped},
      {"QueueCallerJoin", Kind::kJoin},
      {"Join", Kind::kJoin},  // Asterisk ≤ 11
      {"QueueCallerLeave", Kind::kLeave},
      {"Leave", Kind::kLeave},  // Asterisk ≤ 11
      {"QueueCallerAbandon", Kind::kAbandon},
      {"Newchannel", Kind::kNewchannel},
      {"Newstate", Kind::kNewstate},
      {"NewCallerid", Kind::kNewstate},
      {"NewConnectedLine", Kind::kNewstate},
      {"CoreShowChannel", Kind::kCoreShowChannel},
      {"Hangup", Kind::kHangup},
      {"Hold", Kind::kHold},
      {"Unhold", Kind::kUnhold},
      {"VarSet", Kind::kVarSet},
  };
  for (const Entry& e : kTable) {
    if (e.name.size() == name.size() && EqualsIgnoreCase(e.name, name)) {
      kind = e.kind;
      break;
    }
  }
  if (kind == Kind::kNone)
    return;

  Scan s;
  ScanEvent(event, s);
  switch (kind) {
    case Kind::kNone:
      return;
    case Kind::kMemberStatus:
      return EmitMember(s, MemberEvent::Kind::kStatus, snapshot, emit);
    case Kind::kMemberPause:
      return EmitMember(s, MemberEvent::Kind::kPause, snapshot, emit);
    case Kind::kMemberAdded:
      return EmitMember(s, MemberEvent::Kind::kAdded, snapshot, emit);
    case Kind::kMemberRemoved:
      return EmitMember(s, MemberEvent::Kind::kRemoved, snapshot, emit);
    case Kind::kQueueMember:
      return EmitMember(s, MemberEvent::Kind::kStatus, /*snapshot=*/true, emit);
    case Kind::kOffered:
      return EmitMemberCall(s, MemberCallEvent::Kind::kOffered, emit);
    case Kind::kNoAnswer:
      return EmitMemberCall(s, MemberCallEvent::Kind::kNoAnswer, emit);
    case Kind::kConnected:
      return EmitMemberCall(s, MemberCallEvent::Kind::kConnected, emit);
    case Kind::kCompleted:
      return EmitMemberCall(s, MemberCallEvent::Kind::kCompleted, emit);
    case Kind::kDumped:
      return EmitMemberCall(s, MemberCallEvent::Kind::kDumped, emit);
    case Kind::kJoin:
      return EmitQueueCaller(s, QueueCallerEvent::Kind::kJoined, emit);
    case Kind::kLeave:
      return EmitQueueCaller(s, QueueCallerEvent::Kind::kLeft, emit);
    case Kind::kAbandon:
      return EmitQueueCaller(s, QueueCallerEvent::Kind::kAbandoned, emit);
    case Kind::kNewchannel:
      return EmitChannel(s, ChannelEvent::Kind::kCreated, emit);
    case Kind::kNewstate:
      return EmitChannel(s, ChannelEvent::Kind::kState, emit);
    case Kind::kCoreShowChannel:
      return EmitChannel(s, ChannelEvent::Kind::kSnapshot, emit);
    case Kind::kHangup:
      return EmitChannel(s, ChannelEvent::Kind::kHangup, emit);
    case Kind::kHold:
      // Asterisk 11 had one "Hold" event with "Status: On|Off".
      if (!s.hold_status.empty() && EqualsIgnoreCase(s.hold_status, "Off")) {
        return EmitChannel(s, ChannelEvent::Kind::kUnhold, emit);
      }
      return EmitChannel(s, ChannelEvent::Kind::kHold, emit);
    case Kind::kUnhold:
      return EmitChannel(s, ChannelEvent::Kind::kUnhold, emit);
    case Kind::kVarSet:
      return EmitChannel(s, ChannelEvent::Kind::kVarSet, emit);
  }
}

}  // namespace omnibridge::cti::ami
