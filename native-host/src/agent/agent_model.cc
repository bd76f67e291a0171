#include "agent/agent_model.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "boost/json/array.hpp"
#include "boost/json/string.hpp"
#include "boost/json/value.hpp"

#include "base/log.h"
#include "cti/text_util.h"

namespace omnibridge::agent {
namespace json = boost::json;
using cti::text::Av;

std::string_view AgentStateName(AgentState state) {
  switch (state) {
    case AgentState::kLoggedOut:
      return "loggedOut";
    case AgentState::kReady:
      return "ready";
    case AgentState::kNotReady:
      return "notReady";
    case AgentState::kBusy:
      return "busy";
    case AgentState::kWrapup:
      return "wrapup";
  }
  return "loggedOut";
}

std::string_view InteractionStateName(InteractionState state) {
  switch (state) {
    case InteractionState::kOffered:
      return "offered";
    case InteractionState::kConnected:
      return "connected";
    case InteractionState::kHeld:
      return "held";
    case InteractionState::kEnded:
      return "ended";
    case InteractionState::kWrapup:
      return "wrapup";
  }
  return "ended";
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Frames are JSON for Chrome: bytes that are not UTF-8 (a Latin-1 caller name, a bad escape)
// become U+FFFD instead of breaking the extension's parser.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      len = 4;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok && len == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    } else if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

std::string Iso8601(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

bool IsEncodedVariable(std::string_view name) {
  return name == "OB_CRM_URL" || name == "OB_SUBJECT" || name == "OB_CUSTOMER";
}

constexpr std::string_view kVarInteractionId = "OB_INTERACTION_ID";
constexpr std::string_view kVarChannel = "OB_CHANNEL";

}  // namespace

std::string PercentDecode(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      const int hi = HexValue(encoded[i + 1]);
      const int lo = HexValue(encoded[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(encoded[i]);
  }
  return out;
}

// ------------------------------------------------------------------------------------------ Impl

struct AgentModel::Impl {
  struct Member {
    bool paused = false;
    std::string reason;
    int device_status = 0;
    bool in_call = false;
    bool stale = false;
  };

  struct Interaction {
    std::string id;
    std::string linkedid;
    std::string kind = "voice";
    std::string direction = "inbound";
    InteractionState state = InteractionState::kOffered;
    absl::Time since;
    std::string ani, caller_name, dnis, queue, interface;
    std::string caller_uniqueid, member_uniqueid, member_channel;
    std::vector<std::pair<std::string, std::string>> data;  // unique names, arrival order
    bool routed = false;      // carries OB_INTERACTION_ID: a routing offer
    bool offer_sent = false;  // routing.offer went out
    bool popped = false;      // the default pop went out
    bool connected_once = false;
    bool dirty = true;   // changed since the last Publish
    bool stale = false;  // unconfirmed during a resync
    std::optional<json::object> last_sent;

    std::string_view Data(std::string_view name) const {
      for (const auto& [k, v] : data) {
        if (k == name)
          return v;
      }
      return {};
    }
  };

  AgentConfig config;
  const base::Clock* clock;

  cti::LinkStatus link;
  std::optional<json::object> last_link_frame;
  bool link_up = false;
  bool resyncing = false;
  bool finishing_resync = false;
  // Pauses re-applied after an ACD restart are on their way: agent.state waits for their echo
  // rather than flashing "ready" in between.
  bool reapplying = false;
  bool platform_restarted = false;

  // (interface, queue) → member state, for this agent's members only.
  std::map<std::pair<std::string, std::string>, Member> members;
  // Live interactions keyed by Linkedid (the call id; the routed id is a field).
  std::map<std::string, Interaction, std::less<>> interactions;
  // What changed since the last Publish; most AMI events change nothing the extension sees.
  bool link_dirty = true;
  bool agent_dirty = true;

  AgentState agent_state = AgentState::kLoggedOut;
  std::string agent_reason;
  absl::Time agent_since;
  std::optional<json::object> last_agent_frame;
  // The not-ready reason last seen live on the ACD; re-applied when a restart forgets it.
  std::optional<std::string> remembered_pause;
  // Wrap-up: the ACW pause has been seen on the ACD since the wrap-up began.
  bool acw_seen = false;
  uint64_t run_counter = 0;

  Impl(AgentConfig c, const base::Clock* clk) : config(std::move(c)), clock(clk) {
    link.driver = config.driver;
    link.state = cti::LinkState::kDown;
    agent_since = clock->Now();
  }

  // ---------------------------------------------------------------------------------- matching

  bool IsMine(std::string_view interface, std::string_view member_name) const {
    for (const std::string& i : config.interfaces) {
      if (!interface.empty() && cti::text::EqualsIgnoreCase(i, interface))
        return true;
    }
    if (member_name.empty() || config.agent_id.empty())
      return false;
    if (member_name == config.agent_id)
      return true;
    // app_queue's conventional member names: "Agent/1001".
    const size_t slash = member_name.rfind('/');
    return slash != std::string_view::npos && member_name.substr(slash + 1) == config.agent_id;
  }

  std::vector<std::string> AgentInterfaces() const {
    std::vector<std::string> out = config.interfaces;
    for (const auto& [key, member] : members) {
      if (std::find(out.begin(), out.end(), key.first) == out.end())
        out.push_back(key.first);
    }
    return out;
  }

  Interaction* FindByLinkedid(std::string_view linkedid) {
    if (linkedid.empty())
      return nullptr;
    auto it = interactions.find(linkedid);
    return it == interactions.end() ? nullptr : &it->second;
  }

  const Interaction* FindById(std::string_view id) const {
    for (const auto& [key, it] : interactions) {
      if (it.id == id)
        return &it;
    }
    return nullptr;
  }

  // ------------------------------------------------------------------------------------ frames

  json::object LinkFrame() const {
    json::object f;
    f["type"] = "cti.status";
    f["state"] = cti::LinkStateName(link.state);
    f["driver"] = link.driver;
    if (link.state == cti::LinkState::kDown && !link.detail.empty()) {
      f["detail"] = ValidUtf8(link.detail);
    }
    return f;
  }

  std::vector<std::string> PausedInterfaces() const {
    std::vector<std::string> out;
    for (const auto& [key, m] : members) {
      if (m.paused && std::find(out.begin(), out.end(), key.first) == out.end()) {
        out.push_back(key.first);
      }
    }
    return out;
  }

  json::object AgentFrame() const {
    json::object f;
    f["type"] = "agent.state";
    f["agentId"] = config.agent_id;
    f["state"] = AgentStateName(agent_state);
    if (!agent_reason.empty())
      f["reason"] = ValidUtf8(agent_reason);
    f["since"] = Iso8601(agent_since);
    json::array paused;
    for (const std::string& i : PausedInterfaces())
      paused.emplace_back(ValidUtf8(i));
    f["paused"] = std::move(paused);
    json::array codes;
    for (const std::string& c : config.reason_codes)
      codes.emplace_back(c);
    f["reasonCodes"] = std::move(codes);
    return f;
  }

  static json::object InteractionObject(const Interaction& it) {
    json::object o;
    o["interactionId"] = ValidUtf8(it.id);
    o["channel"] = it.kind;
    o["direction"] = it.direction;
    o["state"] = InteractionStateName(it.state);
    o["ani"] = ValidUtf8(it.ani);
    o["callerName"] = ValidUtf8(it.caller_name);
    o["dnis"] = ValidUtf8(it.dnis);
    o["queue"] = ValidUtf8(it.queue);
    json::object data;
    for (const auto& [k, v] : it.data)
      data[ValidUtf8(k)] = ValidUtf8(v);
    o["data"] = std::move(data);
    o["since"] = Iso8601(it.since);
    return o;
  }

  // ----------------------------------------------------------------------------- state machine

  void ComputeAgentState(AgentState& state, std::string& reason) const {
    reason.clear();
    if (members.empty()) {
      state = AgentState::kLoggedOut;
      return;
    }
    bool busy = false;
    bool wrapup = false;
    for (const auto& [key, it] : interactions) {
      if (it.state == InteractionState::kConnected || it.state == InteractionState::kHeld) {
        busy = true;
      }
      if (it.state == InteractionState::kWrapup)
        wrapup = true;
    }
    std::string not_ready_reason;
    bool not_ready = false;
    for (const auto& [key, m] : members) {
      // A device busy outside the queues (a direct call on the phone) makes the agent busy too.
      if (m.device_status == 2 || m.device_status == 3 || m.device_status == 7 ||
          m.device_status == 8) {
        busy = true;
      }
      if (!m.paused)
        continue;
      if (m.reason == config.wrapup_reason) {
        wrapup = true;
      } else if (!not_ready) {
        not_ready = true;
        not_ready_reason = m.reason;
      }
    }
    // Precedence after xivo-ctid: logged out > busy > not ready > wrap-up > ready.
    if (busy) {
      state = AgentState::kBusy;
    } else if (not_ready) {
      state = AgentState::kNotReady;
      reason = not_ready_reason;
    } else if (wrapup) {
      state = AgentState::kWrapup;
    } else {
      state = AgentState::kReady;
    }
  }

  bool AnyPausedWith(std::string_view reason) const {
    for (const auto& [key, m] : members) {
      if (m.paused && m.reason == reason)
        return true;
    }
    return false;
  }

  // Publishes every snapshot that changed. Frames are held back during a resync and the net
  // change goes out at its end, so a resync never repeats or flickers a frame.
  void Publish(Effects& out) {
    if (resyncing)
      return;
    if (link_dirty) {
      link_dirty = false;
      json::object link_frame = LinkFrame();
      if (!last_link_frame || *last_link_frame != link_frame) {
        last_link_frame = link_frame;
        out.frames.push_back(std::move(link_frame));
      }
    }
    for (auto& [key, it] : interactions) {
      if (!it.dirty)
        continue;
      it.dirty = false;
      agent_dirty = true;
      json::object snapshot = InteractionObject(it);
      if (it.last_sent && *it.last_sent == snapshot)
        continue;
      it.last_sent = snapshot;
      json::object f;
      f["type"] = "interaction.update";
      f["interaction"] = std::move(snapshot);
      out.frames.push_back(std::move(f));
      if (it.state == InteractionState::kOffered)
        OnFirstOffered(it, out);
    }
    if (!agent_dirty || reapplying)
      return;
    agent_dirty = false;
    AgentState state;
    std::string reason;
    ComputeAgentState(state, reason);
    if (state != agent_state || reason != agent_reason) {
      agent_state = state;
      agent_reason = reason;
      agent_since = clock->Now();
    }
    json::object agent_frame = AgentFrame();
    if (!last_agent_frame || *last_agent_frame != agent_frame) {
      last_agent_frame = agent_frame;
      out.frames.push_back(std::move(agent_frame));
    }
  }

  void OnFirstOffered(Interaction& it, Effects& out) {
    if (it.routed && !it.offer_sent) {
      it.offer_sent = true;
      json::object offer;
      offer["interactionId"] = ValidUtf8(it.id);
      offer["channel"] = it.kind;
      offer["queue"] = ValidUtf8(it.queue);
      offer["subject"] = ValidUtf8(it.Data("OB_SUBJECT"));
      offer["customer"] = ValidUtf8(it.Data("OB_CUSTOMER"));
      offer["url"] = ValidUtf8(it.Data("OB_CRM_URL"));
      int64_t timeout = 0;
      std::string_view t = it.Data("OB_OFFER_TIMEOUT");
      for (char c : t) {
        if (c < '0' || c > '9' || timeout > 86400) {
          timeout = 0;
          break;
        }
        timeout = timeout * 10 + (c - '0');
      }
      offer["timeoutSeconds"] = timeout;
      json::object f;
      f["type"] = "routing.offer";
      f["offer"] = std::move(offer);
      out.frames.push_back(std::move(f));
    }
    // docs/protocol.md "The default pop": one search by caller number per voice interaction.
    if (it.kind == "voice" && !it.ani.empty() && !it.popped) {
      it.popped = true;
      json::object action;
      action["kind"] = "screenPop";
      action["target"] = "search";
      action["query"] = ValidUtf8(it.ani);
      json::array actions;
      actions.emplace_back(std::move(action));
      json::object f;
      f["type"] = "popflow.run";
      f["runId"] = absl::StrCat("default-", ++run_counter);
      f["interactionId"] = ValidUtf8(it.id);
      f["flow"] = "default";
      f["actions"] = std::move(actions);
      out.frames.push_back(std::move(f));
    }
  }

  // Removes an interaction, telling the extension (unless it never heard of it).
  void EndInteraction(std::map<std::string, Interaction, std::less<>>::iterator pos, Effects& out) {
    Interaction& it = pos->second;
    const bool announced = it.last_sent.has_value();
    if (announced) {
      if (it.state != InteractionState::kEnded && it.state != InteractionState::kWrapup) {
        it.state = InteractionState::kEnded;
        it.since = clock->Now();
        json::object f;
        f["type"] = "interaction.update";
        f["interaction"] = InteractionObject(it);
        out.frames.push_back(std::move(f));
      }
      if (it.offer_sent && !it.connected_once) {
        json::object w;
        w["type"] = "routing.offerWithdrawn";
        w["interactionId"] = ValidUtf8(it.id);
        out.frames.push_back(std::move(w));
      }
      json::object e;
      e["type"] = "interaction.ended";
      e["interactionId"] = ValidUtf8(it.id);
      out.frames.push_back(std::move(e));
    }
    OMNI_LOG(kInfo, "agent", "interaction ", it.id, " ended");
    interactions.erase(pos);
    agent_dirty = true;
  }

  void EndByLinkedid(std::string_view linkedid, Effects& out) {
    auto pos = interactions.find(linkedid);
    if (pos != interactions.end())
      EndInteraction(pos, out);
  }

  void SetState(Interaction& it, InteractionState state) {
    if (it.state == state)
      return;
    it.dirty = true;
    it.state = state;
    it.since = clock->Now();
    if (state == InteractionState::kConnected)
      it.connected_once = true;
  }

  // The call is over for the agent: wrap-up, held as a pause with reason ACW on every interface
  // until the agent is ready again (research notes §1.12).
  void Complete(Interaction& it, Effects& out) {
    if (it.state == InteractionState::kWrapup || it.state == InteractionState::kEnded)
      return;
    SetState(it, InteractionState::kWrapup);
    acw_seen = AnyPausedWith(config.wrapup_reason);
    // At the end of a resync the driver takes commands although it announces "up" only after.
    if (link_up || finishing_resync) {
      for (const std::string& iface : AgentInterfaces()) {
        bool already = false;
        for (const auto& [key, m] : members) {
          if (key.first == iface && m.paused && m.reason == config.wrapup_reason)
            already = true;
        }
        if (!already) {
          out.commands.push_back(cti::PauseMember{iface, true, config.wrapup_reason, ""});
        }
      }
    }
  }

  // Wrap-up ends when the ACW pause, once seen, is gone (the agent went ready or chose another
  // reason) or when the agent is logged out.
  void MaybeEndWrapup(Effects& out) {
    bool any_wrapup = false;
    for (const auto& [key, it] : interactions) {
      if (it.state == InteractionState::kWrapup)
        any_wrapup = true;
    }
    if (!any_wrapup) {
      acw_seen = false;
      return;
    }
    const bool acw_now = AnyPausedWith(config.wrapup_reason);
    if (acw_now)
      acw_seen = true;
    if ((acw_seen && !acw_now) || members.empty()) {
      EndWrapups(out);
    }
  }

  void EndWrapups(Effects& out) {
    for (auto pos = interactions.begin(); pos != interactions.end();) {
      auto next = std::next(pos);
      if (pos->second.state == InteractionState::kWrapup)
        EndInteraction(pos, out);
      pos = next;
    }
    acw_seen = false;
  }

  // ------------------------------------------------------------------------------------ events

  void AddVars(Interaction& it, const cti::VarList& vars) {
    for (const auto& [name, value] : vars)
      SetVar(it, name, value);
  }

  void SetVar(Interaction& it, std::string_view name, std::string_view value) {
    if (name.empty() || value.empty())
      return;
    // Channel events repeat every variable: compare before decoding or allocating.
    const bool decode = IsEncodedVariable(name) && value.find('%') != std::string_view::npos;
    for (auto& [k, v] : it.data) {
      if (k != name)
        continue;
      if (!decode) {
        if (v != value) {
          v.assign(value);
          it.dirty = true;
        }
        return;
      }
      std::string decoded = PercentDecode(value);
      if (v != decoded) {
        v = std::move(decoded);
        it.dirty = true;
      }
      return;
    }
    it.data.emplace_back(std::string(name), decode ? PercentDecode(value) : std::string(value));
    it.dirty = true;
  }

  void OnMemberCall(const cti::MemberCallEvent& e, Effects& out) {
    if (!IsMine(e.interface, e.member_name))
      return;
    using Kind = cti::MemberCallEvent::Kind;
    std::string_view linkedid = !e.caller.linkedid.empty() ? e.caller.linkedid : e.member.linkedid;
    Interaction* it = FindByLinkedid(linkedid);
    switch (e.kind) {
      case Kind::kOffered:
      case Kind::kConnected: {
        if (linkedid.empty())
          return;
        if (it == nullptr) {
          it = &interactions[std::string(linkedid)];
          it->linkedid = std::string(linkedid);
          it->since = clock->Now();
        }
        it->stale = false;
        it->dirty = true;
        if (!e.caller.empty()) {
          it->ani = std::string(e.caller.caller_num);
          it->caller_name = std::string(e.caller.caller_name);
          it->dnis = std::string(e.caller.exten);
          it->caller_uniqueid = std::string(e.caller.uniqueid);
        }
        it->queue = std::string(e.queue);
        it->interface = std::string(e.interface);
        if (!e.member.empty()) {
          it->member_uniqueid = std::string(e.member.uniqueid);
          it->member_channel = std::string(e.member.channel);
        }
        AddVars(*it, e.caller.vars);
        AddVars(*it, e.member.vars);
        // The id is fixed once the extension has seen it: it is the frames' idempotency key.
        if (!it->last_sent) {
          std::string_view routed_id = it->Data(kVarInteractionId);
          it->routed = !routed_id.empty();
          it->id = it->routed ? std::string(routed_id) : it->linkedid;
          std::string_view kind = it->Data(kVarChannel);
          it->kind = kind.empty() ? "voice" : std::string(kind);
        }
        if (e.kind == Kind::kOffered) {
          if (it->state != InteractionState::kOffered)
            SetState(*it, InteractionState::kOffered);
          OMNI_LOG(kInfo, "agent", "offered ", it->kind, " ", it->id, " from ",
                   base::Redact(it->ani), " in ", it->queue);
        } else {
          SetState(*it, InteractionState::kConnected);
        }
        return;
      }
      case Kind::kNoAnswer:
      case Kind::kDumped:
        if (it != nullptr && it->state == InteractionState::kOffered) {
          EndByLinkedid(it->linkedid, out);
        } else if (it != nullptr && e.kind == Kind::kDumped) {
          EndByLinkedid(it->linkedid, out);
        }
        return;
      case Kind::kCompleted:
        if (it == nullptr && e.caller.empty() && e.member.empty()) {
          // Quirk 12: both legs were gone before app_queue published AgentComplete, so it has no
          // channel block. Queue + Interface name the agent's call.
          for (auto& [key, candidate] : interactions) {
            if ((candidate.state == InteractionState::kConnected ||
                 candidate.state == InteractionState::kHeld) &&
                candidate.queue == e.queue &&
                cti::text::EqualsIgnoreCase(candidate.interface, e.interface)) {
              it = &candidate;
              break;
            }
          }
        }
        if (it != nullptr)
          Complete(*it, out);
        return;
    }
  }

  void OnChannel(const cti::ChannelEvent& e, Effects& out) {
    using Kind = cti::ChannelEvent::Kind;
    Interaction* it = FindByLinkedid(e.channel.linkedid);
    if (it == nullptr)
      return;
    const std::string_view uid = e.channel.uniqueid;
    switch (e.kind) {
      case Kind::kCreated:
      case Kind::kState:
        AddVars(*it, e.channel.vars);
        return;
      case Kind::kSnapshot:
        // The agent's leg (or, without one known, any leg of the call) is still there.
        if (it->member_uniqueid.empty() || uid == it->member_uniqueid) {
          it->stale = false;
          if (uid == it->member_uniqueid && e.channel.state == 6 &&
              it->state == InteractionState::kOffered) {
            SetState(*it, InteractionState::kConnected);
          }
        }
        AddVars(*it, e.channel.vars);
        return;
      case Kind::kHangup:
        if (uid.empty())
          return;
        if (uid == it->member_uniqueid || uid == it->caller_uniqueid) {
          if (it->state == InteractionState::kOffered) {
            // A ringall loser's leg (cause 26) or the caller giving up while it rang.
            EndByLinkedid(it->linkedid, out);
          } else if (it->state == InteractionState::kConnected ||
                     it->state == InteractionState::kHeld) {
            // AgentComplete may come late or without its channel block (quirk 12).
            Complete(*it, out);
          }
        }
        return;
      case Kind::kHold:
        if (it->state == InteractionState::kConnected)
          SetState(*it, InteractionState::kHeld);
        return;
      case Kind::kUnhold:
        if (it->state == InteractionState::kHeld)
          SetState(*it, InteractionState::kConnected);
        return;
      case Kind::kVarSet:
        SetVar(*it, e.var_name, e.var_value);
        return;
    }
  }

  void OnQueueCaller(const cti::QueueCallerEvent& e, Effects& out) {
    if (e.kind != cti::QueueCallerEvent::Kind::kAbandoned)
      return;
    Interaction* it = FindByLinkedid(e.caller.linkedid);
    if (it != nullptr && it->state == InteractionState::kOffered)
      EndByLinkedid(it->linkedid, out);
  }

  void OnMember(const cti::MemberEvent& e, Effects& out) {
    if (!IsMine(e.interface, e.member_name) || e.interface.empty())
      return;
    agent_dirty = true;
    if (e.paused && !e.snapshot)
      reapplying = false;
    auto key = std::make_pair(std::string(e.interface), std::string(e.queue));
    if (e.kind == cti::MemberEvent::Kind::kRemoved) {
      members.erase(key);
    } else {
      Member& m = members[key];
      m.paused = e.paused;
      m.reason = e.paused ? std::string(e.reason) : std::string();
      m.device_status = e.device_status;
      m.in_call = e.in_call;
      m.stale = false;
    }
    MaybeEndWrapup(out);
    RememberPause();
  }

  // What to re-apply after a restart: only live observations count (a resync may show the very
  // state an Asterisk restart produced).
  void RememberPause() {
    if (!link_up || resyncing)
      return;
    std::optional<std::string> reason;
    for (const auto& [key, m] : members) {
      if (m.paused) {
        reason = m.reason;
        break;
      }
    }
    if (members.empty())
      reason.reset();
    remembered_pause = reason;
  }

  void OnResync(const cti::ResyncEvent& e, Effects& out) {
    agent_dirty = true;
    if (e.kind == cti::ResyncEvent::Kind::kBegin) {
      resyncing = true;
      platform_restarted = e.platform_restarted;
      for (auto& [key, m] : members)
        m.stale = true;
      for (auto& [key, it] : interactions)
        it.stale = it.state != InteractionState::kWrapup;
      return;
    }
    if (!resyncing)
      return;
    resyncing = false;
    finishing_resync = true;
    for (auto pos = members.begin(); pos != members.end();) {
      pos = pos->second.stale ? members.erase(pos) : std::next(pos);
    }
    for (auto pos = interactions.begin(); pos != interactions.end();) {
      auto next = std::next(pos);
      Interaction& it = pos->second;
      if (it.stale) {
        it.stale = false;
        if (it.state == InteractionState::kConnected || it.state == InteractionState::kHeld) {
          Complete(it, out);  // it ended while the link was down: the agent still wraps up
        } else {
          EndInteraction(pos, out);
        }
      }
      pos = next;
    }
    // An Asterisk restart forgets the pauses of static members: the agent never asked to be
    // ready, so its last not-ready state (or wrap-up) is put back.
    if (platform_restarted && remembered_pause && !members.empty() && PausedInterfaces().empty()) {
      OMNI_LOG(kInfo, "agent", "re-applying not-ready reason ", *remembered_pause,
               " after an ACD restart");
      for (const std::string& iface : AgentInterfaces()) {
        out.commands.push_back(cti::PauseMember{iface, true, *remembered_pause, ""});
      }
      reapplying = true;
    }
    MaybeEndWrapup(out);
    if (!(platform_restarted && remembered_pause))
      RememberPause();
    finishing_resync = false;
  }
};

// ----------------------------------------------------------------------------------- AgentModel

AgentModel::AgentModel(AgentConfig config, const base::Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(config), clock)) {}

AgentModel::~AgentModel() = default;

void AgentModel::OnLinkStatus(const cti::LinkStatus& status, Effects& out) {
  impl_->link = status;
  impl_->link.driver = impl_->config.driver;
  impl_->link_dirty = true;
  const bool was_up = impl_->link_up;
  impl_->link_up = status.state == cti::LinkState::kUp;
  if (status.state == cti::LinkState::kDown)
    impl_->reapplying = false;
  if (!impl_->link_up && impl_->resyncing) {
    // The resync never finished: keep what we knew, it will be checked on the next one.
    impl_->resyncing = false;
    for (auto& [key, m] : impl_->members)
      m.stale = false;
    for (auto& [key, it] : impl_->interactions)
      it.stale = false;
  }
  if (impl_->link_up && !was_up)
    impl_->RememberPause();
  impl_->Publish(out);
}

void AgentModel::OnEvent(const cti::CtiEvent& event, Effects& out) {
  struct Visitor {
    Impl& impl;
    Effects& out;

    void operator()(const cti::MemberEvent& e) { impl.OnMember(e, out); }

    void operator()(const cti::MemberCallEvent& e) {
      impl.OnMemberCall(e, out);
      impl.MaybeEndWrapup(out);
    }

    void operator()(const cti::QueueCallerEvent& e) { impl.OnQueueCaller(e, out); }

    void operator()(const cti::ChannelEvent& e) { impl.OnChannel(e, out); }

    void operator()(const cti::ResyncEvent& e) { impl.OnResync(e, out); }
  };

  std::visit(Visitor{*impl_, out}, event);
  impl_->Publish(out);
}

void AgentModel::OnCommandFailed(const cti::Command& command, const absl::Status& status,
                                 Effects& out) {
  const auto* pause = std::get_if<cti::PauseMember>(&command);
  if (pause != nullptr && pause->paused && impl_->reapplying) {
    impl_->reapplying = false;
    impl_->Publish(out);
  }
  if (pause != nullptr && pause->paused && pause->reason == impl_->config.wrapup_reason) {
    OMNI_LOG(kWarning, "agent", "wrap-up pause failed (", status.message(),
             "); ending wrap-up now");
    impl_->EndWrapups(out);
    impl_->Publish(out);
  }
}

absl::StatusOr<std::vector<cti::Command>> AgentModel::PlanSetState(std::string_view state,
                                                                   std::string_view reason) const {
  const AgentConfig& config = impl_->config;
  std::vector<std::string> interfaces = impl_->AgentInterfaces();
  if (interfaces.empty()) {
    return absl::FailedPreconditionError(
        "the agent has no queue member interface (agent.interfaces)");
  }
  std::vector<cti::Command> commands;
  if (state == "ready") {
    for (const std::string& i : interfaces)
      commands.push_back(cti::PauseMember{i, false, "", ""});
    return commands;
  }
  if (state != "notReady") {
    return absl::InvalidArgumentError("state must be \"ready\" or \"notReady\"");
  }
  if (reason.find_first_of("\r\n") != std::string_view::npos) {
    return absl::InvalidArgumentError("reason holds a line break");
  }
  if (!config.reason_codes.empty() &&
      std::find(config.reason_codes.begin(), config.reason_codes.end(), reason) ==
          config.reason_codes.end() &&
      reason != config.wrapup_reason) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason \"", Av(reason), "\" is not one of agent.reasonCodes"));
  }
  for (const std::string& i : interfaces) {
    commands.push_back(cti::PauseMember{i, true, std::string(reason), ""});
  }
  return commands;
}

absl::StatusOr<cti::Command> AgentModel::PlanInteractionCommand(
    std::string_view type, const boost::json::object& request) const {
  const AgentConfig& config = impl_->config;
  auto string_field = [&](std::string_view name) -> std::string {
    const json::value* v = request.if_contains(name);
    if (v == nullptr || !v->is_string())
      return {};
    return std::string(v->get_string().data(), v->get_string().size());
  };
  if (type == "call.dial") {
    std::string number = string_field("number");
    if (number.empty() || number.find_first_of("\r\n") != std::string::npos) {
      return absl::InvalidArgumentError("call.dial needs a \"number\"");
    }
    std::string endpoint = config.dial_endpoint;
    if (endpoint.empty() && !config.interfaces.empty())
      endpoint = config.interfaces.front();
    if (endpoint.empty())
      return absl::FailedPreconditionError("no endpoint to dial from");
    return cti::Command(cti::Dial{endpoint, number, ""});
  }
  const std::string id = string_field("interactionId");
  if (id.empty())
    return absl::InvalidArgumentError("request needs an \"interactionId\"");
  const Impl::Interaction* it = impl_->FindById(id);
  if (it == nullptr)
    return absl::NotFoundError(absl::StrCat("no interaction ", id));
  const bool offered = it->state == InteractionState::kOffered;
  const bool live =
      it->state == InteractionState::kConnected || it->state == InteractionState::kHeld;
  auto precondition = [&](bool ok) -> absl::Status {
    if (ok)
      return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("interaction ", id, " is ", Av(InteractionStateName(it->state))));
  };
  if (it->member_channel.empty()) {
    return absl::FailedPreconditionError("the agent's leg of this interaction is unknown");
  }
  if (type == "call.answer" || type == "routing.accept") {
    if (absl::Status s = precondition(offered); !s.ok())
      return s;
    if (type == "call.answer")
      return cti::Command(cti::Answer{it->member_channel, config.agent_id});
    return cti::Command(cti::TaskAccept{it->member_channel, config.agent_id});
  }
  if (type == "routing.decline") {
    if (absl::Status s = precondition(offered); !s.ok())
      return s;
    return cti::Command(cti::TaskDecline{it->member_channel});
  }
  if (type == "routing.complete") {
    if (absl::Status s = precondition(live); !s.ok())
      return s;
    return cti::Command(cti::TaskComplete{it->member_channel});
  }
  if (type == "call.hangup") {
    if (absl::Status s = precondition(offered || live); !s.ok())
      return s;
    return cti::Command(cti::Hangup{it->member_channel});
  }
  if (type == "call.hold" || type == "call.resume") {
    const bool hold = type == "call.hold";
    if (absl::Status s = precondition(hold ? it->state == InteractionState::kConnected
                                           : it->state == InteractionState::kHeld);
        !s.ok()) {
      return s;
    }
    return cti::Command(cti::Hold{it->member_channel, hold});
  }
  if (type == "call.transfer") {
    if (absl::Status s = precondition(live); !s.ok())
      return s;
    std::string target = string_field("target");
    if (target.empty() || target.find_first_of("\r\n") != std::string::npos) {
      return absl::InvalidArgumentError("call.transfer needs a \"target\"");
    }
    std::string mode = string_field("mode");
    if (!mode.empty() && mode != "blind" && mode != "attended") {
      return absl::InvalidArgumentError("mode must be \"blind\" or \"attended\"");
    }
    return cti::Command(cti::Transfer{it->member_channel, target, mode == "attended"});
  }
  return absl::InvalidArgumentError(absl::StrCat("not an interaction request: ", Av(type)));
}

std::vector<boost::json::object> AgentModel::CurrentFrames() const {
  std::vector<json::object> frames;
  frames.push_back(impl_->LinkFrame());
  frames.push_back(impl_->AgentFrame());
  for (const auto& [key, it] : impl_->interactions) {
    if (!it.last_sent)
      continue;
    json::object f;
    f["type"] = "interaction.update";
    f["interaction"] = *it.last_sent;
    frames.push_back(std::move(f));
  }
  return frames;
}

AgentState AgentModel::state() const { return impl_->agent_state; }

std::string AgentModel::reason() const { return impl_->agent_reason; }

size_t AgentModel::interaction_count() const { return impl_->interactions.size(); }

}  // namespace omnibridge::agent
