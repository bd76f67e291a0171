#include "routing/webhook.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/log.h"
#include "base/status_macros.h"

namespace omnibridge::routing {
namespace json = boost::json;
using base::Cat;

namespace {

constexpr int kMaxJsonDepth = 32;

std::string ToHex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = Lower(c);
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != Lower(prefix[i]))
      return false;
  }
  return true;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool IsPlainToken(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max)
    return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == '_'))
      return false;
  }
  return true;
}

size_t PercentEncodedSize(std::string_view raw) {
  size_t n = 0;
  for (unsigned char c : raw) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    n += unreserved ? 1 : 3;
  }
  return n;
}

// Control characters become spaces (they would only confuse a card or a log line); the text is cut
// at `max` bytes on a UTF-8 boundary.
std::string CleanText(std::string_view s, size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max));
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  if (out.size() > max) {
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
      --cut;
    out.resize(cut);
  }
  std::string_view trimmed = Trim(out);
  return std::string(trimmed);
}

const json::value* Find(const json::object& o, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (const json::value* v = o.if_contains(json::string_view(k.data(), k.size()));
        v && !v->is_null()) {
      return v;
    }
  }
  return nullptr;
}

// A string field (numbers accepted and printed in decimal, for ids); "" when absent.
absl::StatusOr<std::string> Text(const json::object& o,
                                 std::initializer_list<std::string_view> keys,
                                 std::string_view what) {
  const json::value* v = Find(o, keys);
  if (v == nullptr)
    return std::string();
  if (v->is_string())
    return std::string(v->get_string());
  if (v->is_int64())
    return std::to_string(v->get_int64());
  if (v->is_uint64())
    return std::to_string(v->get_uint64());
  return absl::InvalidArgumentError(Cat(what, " must be a string"));
}

const json::object* Obj(const json::object& o, std::initializer_list<std::string_view> keys) {
  const json::value* v = Find(o, keys);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

bool IsLoopbackHost(std::string_view rest) {
  for (std::string_view host : {"127.0.0.1", "localhost", "[::1]"}) {
    if (StartsWithNoCase(rest, host)) {
      const std::string_view after = rest.substr(host.size());
      if (after.empty() || after.front() == ':' || after.front() == '/' || after.front() == '?' ||
          after.front() == '#')
        return true;
    }
  }
  return false;
}

absl::Status CheckUrl(std::string_view url) {
  if (url.empty())
    return absl::OkStatus();
  for (char c : url) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f)
      return absl::InvalidArgumentError("url must not contain spaces or control characters");
  }
  const bool https = StartsWithNoCase(url, "https://") && url.size() > 8;
  const bool loopback_http = StartsWithNoCase(url, "http://") && IsLoopbackHost(url.substr(7));
  if (!https && !loopback_http)
    return absl::InvalidArgumentError("url must be an https URL");
  if (PercentEncodedSize(url) > kMaxUrlEncodedBytes)
    return absl::InvalidArgumentError("url is too long");
  return absl::OkStatus();
}

constexpr std::string_view kChannels[] = {"chat", "email", "sms", "social"};

bool IsChannel(std::string_view c) {
  for (std::string_view k : kChannels) {
    if (c == k)
      return true;
  }
  return false;
}

// A CRM's name for how a work item came in (Salesforce Case Origin, Zendesk via, Oracle channel)
// → our channel; "" when unknown.
std::string ChannelFromCrm(std::string_view crm) {
  const std::string c = LowerAscii(Trim(crm));
  if (IsChannel(c))
    return c;
  if (c.empty())
    return "";
  if (Contains(c, "sms") || Contains(c, "text"))
    return "sms";
  if (Contains(c, "facebook") || Contains(c, "twitter") || Contains(c, "instagram") ||
      Contains(c, "social") || c == "x" || c == "line" || Contains(c, "wechat"))
    return "social";
  if (Contains(c, "chat") || Contains(c, "messag") || Contains(c, "whatsapp") ||
      Contains(c, "widget"))
    return "chat";
  if (Contains(c, "mail") || Contains(c, "web") || Contains(c, "form") || c == "api")
    return "email";
  return "";
}

struct Fields {
  std::string id, channel, subject, name, address, url, status;
  const json::value* data = nullptr;
};

absl::StatusOr<Intake> Finish(Fields f, std::string_view channel_hint) {
  Intake in;
  for (char c : f.id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return absl::InvalidArgumentError("id must not contain control characters");
  }
  if (Trim(f.id).empty())
    return absl::InvalidArgumentError("no id: the body must carry the CRM's id of the work item");
  if (f.id.size() > kMaxCrmIdBytes)
    return absl::InvalidArgumentError(Cat("id is longer than ", kMaxCrmIdBytes, " bytes"));
  in.crm_id = f.id;
  if (f.channel.empty()) {
    return absl::InvalidArgumentError(Cat("no channel", channel_hint.empty() ? "" : " (",
                                          channel_hint, channel_hint.empty() ? "" : ")",
                                          ": must be chat, email, sms or social"));
  }
  in.channel = f.channel;
  in.subject = CleanText(f.subject, kMaxSubjectBytes);
  in.customer_name = CleanText(f.name, kMaxNameBytes);
  in.customer_address = CleanText(f.address, kMaxAddressBytes);
  // A URL cannot be cut: a bad one is the CRM's mistake to hear about.
  if (absl::Status s = CheckUrl(f.url); !s.ok())
    return s;
  in.url = f.url;
  if (f.data != nullptr) {
    if (!f.data->is_object())
      return absl::InvalidArgumentError("data must be an object");
    in.data_json = json::serialize(*f.data);
  }
  const std::string status = LowerAscii(Trim(f.status));
  in.closed = status == "closed" || status == "solved" || status == "resolved";
  return in;
}

// ------------------------------------------------------------------------------------ mappings

absl::StatusOr<Intake> MapGeneric(const json::object& o) {
  Fields f;
  auto id = Text(o, {"id"}, "id");
  if (!id.ok())
    return id.status();
  f.id = *id;
  const json::value* ch = Find(o, {"channel"});
  if (ch != nullptr) {
    if (!ch->is_string() || !IsChannel(std::string_view(ch->get_string())))
      return absl::InvalidArgumentError("channel must be chat, email, sms or social");
    f.channel = std::string(ch->get_string());
  }
  auto subject = Text(o, {"subject"}, "subject");
  if (!subject.ok())
    return subject.status();
  f.subject = *subject;
  if (const json::value* c = Find(o, {"customer"})) {
    if (!c->is_object())
      return absl::InvalidArgumentError("customer must be an object with name and address");
    auto name = Text(c->get_object(), {"name"}, "customer.name");
    auto address = Text(c->get_object(), {"address"}, "customer.address");
    if (!name.ok())
      return name.status();
    if (!address.ok())
      return address.status();
    f.name = *name;
    f.address = *address;
  }
  auto url = Text(o, {"url"}, "url");
  if (!url.ok())
    return url.status();
  f.url = *url;
  auto status = Text(o, {"status"}, "status");
  if (!status.ok())
    return status.status();
  f.status = *status;
  f.data = Find(o, {"data"});
  return Finish(std::move(f), "");
}

// Salesforce: a Flow HTTP callout (the record's fields, flat), or a Platform Event relayed as
// {"data": {"payload": {...}}} (CometD / Pub/Sub relay) or {"payload": {...}}.
absl::StatusOr<Intake> MapSalesforce(const json::object& body) {
  const json::object* rec = &body;
  if (const json::object* data = Obj(body, {"data"})) {
    if (const json::object* p = Obj(*data, {"payload"}))
      rec = p;
  } else if (const json::object* p = Obj(body, {"payload"})) {
    rec = p;
  }
  Fields f;
  auto text = [&](std::initializer_list<std::string_view> keys, std::string* out) {
    auto v = Text(*rec, keys, *keys.begin());
    if (!v.ok())
      return v.status();
    *out = *v;
    return absl::OkStatus();
  };
  OMNI_RETURN_IF_ERROR(text({"WorkItemId__c", "RecordId__c", "Id"}, &f.id));
  std::string channel;
  OMNI_RETURN_IF_ERROR(text({"Channel__c", "Origin"}, &channel));
  f.channel = ChannelFromCrm(channel);
  OMNI_RETURN_IF_ERROR(text({"Subject__c", "Subject"}, &f.subject));
  OMNI_RETURN_IF_ERROR(text({"CustomerName__c", "SuppliedName"}, &f.name));
  OMNI_RETURN_IF_ERROR(
      text({"CustomerAddress__c", "SuppliedEmail", "SuppliedPhone", "ContactEmail"}, &f.address));
  OMNI_RETURN_IF_ERROR(text({"RecordUrl__c", "Url__c"}, &f.url));
  OMNI_RETURN_IF_ERROR(text({"Status"}, &f.status));
  if (const json::value* closed = Find(*rec, {"IsClosed"});
      closed && closed->is_bool() && closed->get_bool())
    f.status = "closed";
  return Finish(std::move(f), channel.empty() ? "Channel__c or Origin" : Cat("\"", channel, "\""));
}

// Zendesk: a trigger webhook whose JSON body the admin writes with placeholders (docs/routing.md):
// {"ticket": {"id", "title", "via", "url", "status", "requester": {"name", "email"}}}.
absl::StatusOr<Intake> MapZendesk(const json::object& body) {
  const json::object* t = Obj(body, {"ticket"});
  if (t == nullptr)
    t = &body;
  Fields f;
  auto id = Text(*t, {"id"}, "ticket.id");
  if (!id.ok())
    return id.status();
  f.id = *id;
  std::string via;
  if (const json::value* v = Find(*t, {"channel", "via"})) {
    if (v->is_string()) {
      via = std::string(v->get_string());
    } else if (v->is_object()) {  // the API's {"channel": "email", ...}
      auto c = Text(v->get_object(), {"channel"}, "ticket.via.channel");
      if (!c.ok())
        return c.status();
      via = *c;
    }
  }
  f.channel = ChannelFromCrm(via);
  auto subject = Text(*t, {"title", "subject"}, "ticket.title");
  if (!subject.ok())
    return subject.status();
  f.subject = *subject;
  if (const json::object* r = Obj(*t, {"requester"})) {
    auto name = Text(*r, {"name"}, "ticket.requester.name");
    auto email = Text(*r, {"email", "phone"}, "ticket.requester.email");
    if (!name.ok())
      return name.status();
    if (!email.ok())
      return email.status();
    f.name = *name;
    f.address = *email;
  }
  auto url = Text(*t, {"url", "link"}, "ticket.url");
  if (!url.ok())
    return url.status();
  f.url = *url;
  // {{ticket.url}} has no scheme ("acme.zendesk.com/agent/tickets/42").
  if (!f.url.empty() && f.url.find("://") == std::string::npos)
    f.url = Cat("https://", f.url);
  auto status = Text(*t, {"status"}, "ticket.status");
  if (!status.ok())
    return status.status();
  f.status = *status;
  return Finish(std::move(f), via.empty() ? "ticket.via" : Cat("\"", via, "\""));
}

// Oracle B2C Service: an event notification carrying the incident (docs/routing.md):
// {"incident": {"id", "lookupName", "subject", "channel": {"lookupName"}, "url",
//  "primaryContact": {"name", "email"}, "statusWithType": {"status": {"lookupName"}}}} or flat.
absl::StatusOr<Intake> MapOracle(const json::object& body) {
  const json::object* inc = Obj(body, {"incident", "Incident"});
  if (inc == nullptr)
    inc = &body;
  Fields f;
  auto id = Text(*inc, {"id", "lookupName"}, "incident.id");
  if (!id.ok())
    return id.status();
  f.id = *id;
  std::string channel;
  if (const json::value* c = Find(*inc, {"channel"})) {
    if (c->is_string()) {
      channel = std::string(c->get_string());
    } else if (c->is_object()) {
      auto n = Text(c->get_object(), {"lookupName", "name"}, "incident.channel.lookupName");
      if (!n.ok())
        return n.status();
      channel = *n;
    }
  }
  f.channel = ChannelFromCrm(channel);
  auto subject = Text(*inc, {"subject"}, "incident.subject");
  if (!subject.ok())
    return subject.status();
  f.subject = *subject;
  if (const json::object* pc = Obj(*inc, {"primaryContact"})) {
    auto name = Text(*pc, {"name", "lookupName"}, "incident.primaryContact.name");
    auto email = Text(*pc, {"email", "address"}, "incident.primaryContact.email");
    if (!name.ok())
      return name.status();
    if (!email.ok())
      return email.status();
    f.name = *name;
    f.address = *email;
  }
  auto url = Text(*inc, {"url", "workspaceUrl"}, "incident.url");
  if (!url.ok())
    return url.status();
  f.url = *url;
  if (const json::object* sw = Obj(*inc, {"statusWithType"})) {
    if (const json::object* st = Obj(*sw, {"status"})) {
      auto n = Text(*st, {"lookupName"}, "incident.statusWithType.status.lookupName");
      if (n.ok())
        f.status = *n;
    }
  }
  return Finish(std::move(f), channel.empty() ? "incident.channel" : Cat("\"", channel, "\""));
}

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kGeneric:
      return "generic";
    case SourceKind::kSalesforce:
      return "salesforce";
    case SourceKind::kZendesk:
      return "zendesk";
    case SourceKind::kOracle:
      return "oracle";
  }
  return "generic";
}

const std::string& Source::QueueFor(std::string_view channel) const {
  auto it = queues.find(std::string(channel));
  return it != queues.end() ? it->second : queue;
}

absl::StatusOr<std::vector<Source>> ParseSources(const json::value* sources) {
  std::vector<Source> out;
  if (sources == nullptr || sources->is_null())
    return absl::InvalidArgumentError("route.sources: at least one source is needed");
  if (!sources->is_array())
    return absl::InvalidArgumentError("route.sources: must be a list of objects");
  size_t i = 0;
  for (const json::value& v : sources->get_array()) {
    const std::string key = Cat("route.sources[", i++, "]");
    if (!v.is_object())
      return absl::InvalidArgumentError(Cat(key, ": must be an object"));
    const json::object& o = v.get_object();
    for (const auto& kv : o) {
      const std::string_view k(kv.key().data(), kv.key().size());
      if (k != "name" && k != "kind" && k != "secret" && k != "secretFile" && k != "queue" &&
          k != "queues" && k != "auth")
        return absl::InvalidArgumentError(Cat(key, ".", k, ": unknown key"));
    }
    auto str = [&](std::string_view name, std::string* dst) -> absl::Status {
      const json::value* f = o.if_contains(json::string_view(name.data(), name.size()));
      if (f == nullptr)
        return absl::OkStatus();
      if (!f->is_string())
        return absl::InvalidArgumentError(Cat(key, ".", name, ": must be a string"));
      *dst = std::string(f->get_string());
      return absl::OkStatus();
    };
    Source s;
    std::string kind = "generic", auth = "signature", secret_file;
    OMNI_RETURN_IF_ERROR(str("name", &s.name));
    OMNI_RETURN_IF_ERROR(str("kind", &kind));
    OMNI_RETURN_IF_ERROR(str("auth", &auth));
    OMNI_RETURN_IF_ERROR(str("secret", &s.secret));
    OMNI_RETURN_IF_ERROR(str("secretFile", &secret_file));
    OMNI_RETURN_IF_ERROR(str("queue", &s.queue));
    if (!IsPlainToken(s.name, 64))
      return absl::InvalidArgumentError(
          Cat(key, ".name: letters, digits, '-', '_' or '.' (at most 64)"));
    for (const Source& other : out) {
      if (other.name == s.name)
        return absl::InvalidArgumentError(Cat(key, ".name: \"", s.name, "\" is used twice"));
    }
    if (kind == "generic") {
      s.kind = SourceKind::kGeneric;
    } else if (kind == "salesforce") {
      s.kind = SourceKind::kSalesforce;
    } else if (kind == "zendesk") {
      s.kind = SourceKind::kZendesk;
    } else if (kind == "oracle") {
      s.kind = SourceKind::kOracle;
    } else {
      return absl::InvalidArgumentError(
          Cat(key, ".kind: must be generic, salesforce, zendesk or oracle"));
    }
    if (auth == "signature") {
      s.auth = AuthMode::kSignature;
    } else if (auth == "bearer") {
      s.auth = AuthMode::kBearer;
    } else {
      return absl::InvalidArgumentError(Cat(key, ".auth: must be signature or bearer"));
    }
    if (!secret_file.empty()) {
      std::ifstream in(secret_file, std::ios::binary);
      if (!in)
        return absl::NotFoundError(Cat(key, ".secretFile: ", secret_file, " cannot be read"));
      std::stringstream content;
      content << in.rdbuf();
      s.secret = content.str();
      while (!s.secret.empty() && (s.secret.back() == '\n' || s.secret.back() == '\r'))
        s.secret.pop_back();
    }
    if (s.secret.size() < 16)
      return absl::InvalidArgumentError(
          Cat(key, ": secret (or secretFile) must hold at least 16 characters"));
    if (!IsPlainToken(s.queue, 80))
      return absl::InvalidArgumentError(
          Cat(key, ".queue: a queue name (letters, digits, '-', '_', '.') is needed"));
    if (const json::value* q = o.if_contains("queues")) {
      if (!q->is_object())
        return absl::InvalidArgumentError(Cat(key, ".queues: must be an object"));
      for (const auto& kv : q->get_object()) {
        const std::string channel(kv.key());
        if (!IsChannel(channel))
          return absl::InvalidArgumentError(
              Cat(key, ".queues.", channel, ": channel must be chat, email, sms or social"));
        if (!kv.value().is_string() || !IsPlainToken(std::string_view(kv.value().get_string()), 80))
          return absl::InvalidArgumentError(Cat(key, ".queues.", channel, ": a queue name"));
        s.queues[channel] = std::string(kv.value().get_string());
      }
    }
    out.push_back(std::move(s));
  }
  if (out.empty())
    return absl::InvalidArgumentError("route.sources: at least one source is needed");
  return out;
}

absl::StatusOr<Intake> ParsePayload(SourceKind kind, std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value v =
      json::parse(json::string_view(body.data(), body.size()), ec, json::storage_ptr(), options);
  if (ec)
    return absl::InvalidArgumentError(Cat("body is not valid JSON: ", ec.message()));
  if (!v.is_object())
    return absl::InvalidArgumentError("body must be a JSON object");
  const json::object& o = v.get_object();
  switch (kind) {
    case SourceKind::kGeneric:
      return MapGeneric(o);
    case SourceKind::kSalesforce:
      return MapSalesforce(o);
    case SourceKind::kZendesk:
      return MapZendesk(o);
    case SourceKind::kOracle:
      return MapOracle(o);
  }
  return absl::InvalidArgumentError("unknown source kind");
}

std::string CustomerLine(std::string_view name, std::string_view address) {
  if (address.empty())
    return std::string(name);
  if (name.empty())
    return Cat("<", address, ">");
  return Cat(name, " <", address, ">");
}

std::string InteractionIdFor(std::string_view source, std::string_view crm_id) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, source.data(), source.size());
  EVP_DigestUpdate(ctx, "\0", 1);
  EVP_DigestUpdate(ctx, crm_id.data(), crm_id.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return Cat("ob-", ToHex(digest, 12));
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return ToHex(mac, len);
}

std::string HmacSha256Base64(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, mac, static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

// ------------------------------------------------------------------------------- Authenticator

absl::Status Authenticator::Verify(const Source& source, std::string_view signature_header,
                                   std::string_view authorization, std::string_view body,
                                   absl::Time now) {
  auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
  };
  if (source.auth == AuthMode::kBearer) {
    std::string_view auth = Trim(authorization);
    if (!StartsWithNoCase(auth, "bearer "))
      return absl::UnauthenticatedError("missing Authorization: Bearer token");
    if (!same(Trim(auth.substr(7)), source.secret))
      return absl::UnauthenticatedError("bearer token does not match");
    return absl::OkStatus();
  }
  if (signature_header.empty())
    return absl::UnauthenticatedError("missing X-Omnibridge-Signature");
  if (signature_header.size() > 1024)
    return absl::UnauthenticatedError("malformed X-Omnibridge-Signature");
  std::string_view t;
  std::vector<std::string_view> v1;
  std::string_view rest = signature_header;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view part = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (part.starts_with("t=")) {
      t = part.substr(2);
    } else if (part.starts_with("v1=")) {
      v1.push_back(part.substr(3));
    }
  }
  int64_t ts = 0;
  bool ts_ok = !t.empty() && t.size() <= 12;  // 12 digits: no overflow below
  for (char c : ts_ok ? t : std::string_view()) {
    if (c < '0' || c > '9') {
      ts_ok = false;
      break;
    }
    ts = ts * 10 + (c - '0');
  }
  if (!ts_ok || v1.empty())
    return absl::UnauthenticatedError(
        "malformed X-Omnibridge-Signature: expected t=<unix seconds>,v1=<hex HMAC-SHA256>");
  const absl::Time when = absl::FromUnixSeconds(ts);
  if (when < now - kTolerance || when > now + kTolerance)
    return absl::UnauthenticatedError("stale timestamp: outside the 5-minute tolerance");
  std::string expected = HmacSha256Hex(source.secret, Cat(t, ".", body));
  bool match = false;
  for (std::string_view candidate : v1)
    match |= same(LowerAscii(candidate), expected);
  if (!match)
    return absl::UnauthenticatedError("signature does not match");
  return Remember(source, expected, when, now);
}

absl::Status Authenticator::Remember(const Source& source, const std::string& mac, absl::Time when,
                                     absl::Time now) {
  Forget(now);
  std::string key = Cat(source.name, ":", mac);
  if (seen_.contains(key))
    return absl::UnauthenticatedError("replayed request: this signature was already used");
  if (seen_.size() >= max_remembered_)
    return absl::ResourceExhaustedError("too many signed requests to remember; retry later");
  seen_.insert(key);
  order_.push_back(Seen{when + kTolerance, std::move(key)});
  return absl::OkStatus();
}

absl::Status Authenticator::VerifyZendesk(const Source& source, std::string_view signature_b64,
                                          std::string_view timestamp, std::string_view body,
                                          absl::Time now) {
  signature_b64 = Trim(signature_b64);
  timestamp = Trim(timestamp);
  if (signature_b64.empty() || signature_b64.size() > 200 || timestamp.empty() ||
      timestamp.size() > 64)
    return absl::UnauthenticatedError("malformed X-Zendesk-Webhook-Signature");
  absl::Time when;
  std::string error;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(absl::string_view(timestamp.data(), timestamp.size()), &seconds) &&
      timestamp.size() <= 12) {
    when = absl::FromUnixSeconds(seconds);
  } else if (!absl::ParseTime(absl::RFC3339_full,
                              absl::string_view(timestamp.data(), timestamp.size()), &when,
                              &error)) {
    return absl::UnauthenticatedError("malformed X-Zendesk-Webhook-Signature-Timestamp");
  }
  if (when < now - kTolerance || when > now + kTolerance)
    return absl::UnauthenticatedError("stale timestamp: outside the 5-minute tolerance");
  const std::string expected = HmacSha256Base64(source.secret, Cat(timestamp, body));
  if (signature_b64.size() != expected.size() ||
      CRYPTO_memcmp(signature_b64.data(), expected.data(), expected.size()) != 0)
    return absl::UnauthenticatedError("signature does not match");
  return Remember(source, expected, when, now);
}

void Authenticator::Forget(absl::Time now) {
  // Entries expire in arrival order only roughly (timestamps vary within the window), so an
  // entry waits at most one window longer than needed; memory stays bounded all the same.
  while (!order_.empty() && order_.front().expires < now) {
    seen_.erase(order_.front().key);
    order_.pop_front();
  }
}

}  // namespace omnibridge::routing
