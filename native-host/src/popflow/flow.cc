// The flow loader: checks a user-authored flow against the rules docs/popflow.schema.json states
// (and the cross-references a schema cannot: node ids, branch targets, expression syntax) and
// compiles every expression and template once.
#include "popflow/flow.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <initializer_list>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "popflow/popflow.h"

namespace omnibridge::popflow {

namespace json = boost::json;

namespace {

enum class FieldType {
  kExpr,
  kTemplate,
  kUrlTemplate,
  kEnum,
  kVarName,
  kName,  // credential or app name
  kNumber,
  kInteger,
  kBool,
  kTemplateMap,
  kJsonTemplate,
  kTemplateList,
  kButtons,
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
  bool required = false;
  std::vector<std::string_view> values = {};  // kEnum
  double min = 0;
  double max = 0;  // kNumber/kInteger
};

struct KindSpec {
  std::string_view name;
  NodeKind kind;
  std::vector<FieldSpec> fields = {};
  std::vector<std::string_view> branches = {};  // fixed outcome names
  bool open_branches = false;                   // switch: case values; toast: button ids
  bool has_next = true;
};

const std::vector<KindSpec>& Kinds() {
  static const auto* kinds = new std::vector<KindSpec>{
      {"if", NodeKind::kIf, {{"condition", FieldType::kExpr, true}}, {"true", "false"}},
      {"switch", NodeKind::kSwitch, {{"value", FieldType::kExpr, true}}, {}, true},
      {"set",
       NodeKind::kSet,
       {{"name", FieldType::kVarName, true}, {"value", FieldType::kExpr, true}}},
      {"unset", NodeKind::kUnset, {{"name", FieldType::kVarName, true}}},
      {"format",
       NodeKind::kFormat,
       {{"op", FieldType::kEnum, true, {"e164", "date", "join", "replace", "slice"}},
        {"input", FieldType::kExpr, true},
        {"into", FieldType::kVarName, true},
        {"country", FieldType::kTemplate},
        {"pattern", FieldType::kTemplate},
        {"timezone", FieldType::kTemplate},
        {"separator", FieldType::kTemplate},
        {"from", FieldType::kTemplate},
        {"to", FieldType::kTemplate},
        {"start", FieldType::kInteger, false, {}, -100000, 100000},
        {"end", FieldType::kInteger, false, {}, -100000, 100000}}},
      {"crmSearch",
       NodeKind::kCrmSearch,
       {{"field", FieldType::kEnum, true, {"phone", "email", "name", "id"}},
        {"value", FieldType::kTemplate, true},
        {"recordType", FieldType::kTemplate},
        {"into", FieldType::kVarName},
        {"timeoutSeconds", FieldType::kNumber, false, {}, 1, 60}},
       {"none", "one", "many", "error"}},
      {"screenPop",
       NodeKind::kScreenPop,
       {{"target", FieldType::kEnum, true, {"record", "newRecord", "search", "url"}},
        {"recordType", FieldType::kTemplate},
        {"recordId", FieldType::kTemplate},
        {"fields", FieldType::kTemplateMap},
        {"query", FieldType::kTemplate},
        {"url", FieldType::kUrlTemplate}}},
      {"toast",
       NodeKind::kToast,
       {{"title", FieldType::kTemplate},
        {"message", FieldType::kTemplate, true},
        {"modal", FieldType::kBool},
        {"buttons", FieldType::kButtons},
        {"timeoutSeconds", FieldType::kNumber, false, {}, 1, 600}},
       {"timeout"},
       true},
      {"fillField",
       NodeKind::kFillField,
       {{"field", FieldType::kTemplate, true}, {"value", FieldType::kTemplate, true}}},
      {"setDisposition", NodeKind::kSetDisposition, {{"value", FieldType::kTemplate, true}}},
      {"logActivity",
       NodeKind::kLogActivity,
       {{"via", FieldType::kEnum, false, {"crm", "http"}},
        {"subject", FieldType::kTemplate, true},
        {"body", FieldType::kTemplate},
        {"recordId", FieldType::kTemplate},
        {"url", FieldType::kUrlTemplate},
        {"credential", FieldType::kName},
        {"timeoutSeconds", FieldType::kNumber, false, {}, 1, 30}},
       {"error"}},
      {"httpRequest",
       NodeKind::kHttpRequest,
       {{"method", FieldType::kEnum, true, {"GET", "POST"}},
        {"url", FieldType::kUrlTemplate, true},
        {"headers", FieldType::kTemplateMap},
        {"body", FieldType::kJsonTemplate},
        {"credential", FieldType::kName},
        {"timeoutSeconds", FieldType::kNumber, false, {}, 1, 30},
        {"into", FieldType::kVarName}},
       {"error"}},
      {"setAgentState",
       NodeKind::kSetAgentState,
       {{"state", FieldType::kEnum, true, {"ready", "notReady"}},
        {"reason", FieldType::kTemplate}}},
      {"delay", NodeKind::kDelay, {{"seconds", FieldType::kNumber, true, {}, 0, 60}}},
      {"launchApp",
       NodeKind::kLaunchApp,
       {{"app", FieldType::kName, true}, {"args", FieldType::kTemplateList}},
       {"error"}},
      {"end", NodeKind::kEnd, {}, {}, false, false},
  };
  return *kinds;
}

const KindSpec* FindKind(std::string_view name) {
  for (const KindSpec& k : Kinds()) {
    if (k.name == name) {
      return &k;
    }
  }
  return nullptr;
}

bool IsNodeId(std::string_view s) {
  if (s.empty() || s.size() > 64 || !absl::ascii_isalpha(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool IsVarName(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  if (!absl::ascii_isalpha(static_cast<unsigned char>(s[0])) && s[0] != '_') {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Header names a flow may not set: credentials come only from the host's configuration, and
// the framing headers are the executor's.
bool IsForbiddenHeader(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(Av(name));
  for (std::string_view h : {"authorization", "cookie", "proxy-authorization", "host",
                             "content-length", "transfer-encoding", "connection"}) {
    if (lower == h) {
      return true;
    }
  }
  return false;
}

bool IsHeaderName(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

bool HasControlChars(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 && c != '\t';
  });
}

std::string JoinViews(const std::vector<std::string_view>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out.append(sep);
    }
    out.append(items[i]);
  }
  return out;
}

template <size_t N>
std::string JoinViews(const std::string_view (&items)[N], std::string_view sep) {
  return JoinViews(std::vector<std::string_view>(items, items + N), sep);
}

}  // namespace

std::string_view NodeKindName(NodeKind kind) {
  for (const KindSpec& k : Kinds()) {
    if (k.kind == kind) {
      return k.name;
    }
  }
  return "?";
}

class FlowBuilder {
 public:
  FlowBuilder(const FlowLimits& limits, std::vector<Diagnostic>* out)
      : limits_(limits), out_(out) {}

  std::shared_ptr<Flow> Build(const json::value& root) {
    auto flow = std::make_shared<Flow>();
    flow_ = flow.get();
    if (!root.is_object()) {
      Error("", "", 0, "a flow must be a JSON object");
      return nullptr;
    }
    const json::object& obj = root.get_object();
    flow->source_ = obj;
    for (const auto& kv : obj) {
      std::string_view k = kv.key();
      if (k != "schema" && k != "name" && k != "description" && k != "trigger" && k != "nodes" &&
          k != "start" && k != "ui") {
        Error("", std::string(k), 0, "unknown field");
      }
    }
    const json::value* schema = obj.if_contains("schema");
    if (schema == nullptr || !schema->is_string() || schema->get_string() != kSchemaId) {
      Error("", "schema", 0, absl::StrCat("must be \"", Av(kSchemaId), "\""));
    }
    const json::value* name = obj.if_contains("name");
    if (name == nullptr || !name->is_string() || name->get_string().empty() ||
        name->get_string().size() > limits_.max_name || HasControlChars(name->get_string())) {
      Error("", "name", 0, absl::StrCat("must be text of 1 to ", limits_.max_name, " characters"));
    } else {
      flow->name_ = std::string(name->get_string());
    }
    if (const json::value* d = obj.if_contains("description")) {
      if (!d->is_string() || d->get_string().size() > 2000) {
        Error("", "description", 0, "must be text of at most 2000 characters");
      } else {
        flow->description_ = std::string(d->get_string());
      }
    }
    if (const json::value* ui = obj.if_contains("ui")) {
      CheckUi("", *ui);
    }
    Trigger(obj.if_contains("trigger"));
    Nodes(obj.if_contains("nodes"));
    const json::value* start = obj.if_contains("start");
    if (start == nullptr || !start->is_string()) {
      Error("", "start", 0, "must name the first node");
    } else {
      flow->start_ = std::string(start->get_string());
      if (!flow->nodes_.empty() && flow->Find(flow->start_) == nullptr) {
        Error("", "start", 0, absl::StrCat("no node '", flow->start_, "'"));
      }
    }
    if (errors_ == 0) {
      Reachability();
    }
    return errors_ == 0 ? flow : nullptr;
  }

  int errors() const { return errors_; }

 private:
  void Error(std::string node, std::string field, int column, std::string message,
             bool warning = false) {
    if (!warning) {
      ++errors_;
    }
    if (out_ != nullptr && out_->size() < 200) {
      out_->push_back(
          Diagnostic{std::move(node), std::move(field), column, std::move(message), warning});
    }
  }

  void CheckUi(const std::string& node, const json::value& ui) {
    if (!ui.is_object()) {
      Error(node, "ui", 0, "must be an object");
    } else if (json::serialize(ui).size() > limits_.max_ui_bytes) {
      Error(node, "ui", 0, absl::StrCat("larger than ", limits_.max_ui_bytes, " bytes"));
    }
  }

  void Trigger(const json::value* t) {
    if (t == nullptr || !t->is_object()) {
      Error("", "trigger", 0, "must be an object with an event");
      return;
    }
    const json::object& obj = t->get_object();
    for (const auto& kv : obj) {
      std::string_view k = kv.key();
      if (k != "event" && k != "name" && k != "filter") {
        Error("", absl::StrCat("trigger.", std::string(k)), 0, "unknown field");
      }
    }
    const json::value* event = obj.if_contains("event");
    bool known = false;
    if (event != nullptr && event->is_string()) {
      for (std::string_view e : kTriggerEvents) {
        known = known || event->get_string() == e;
      }
    }
    if (!known) {
      Error("", "trigger.event", 0,
            absl::StrCat("must be one of ", JoinViews(kTriggerEvents, ", ")));
      return;
    }
    flow_->trigger_event_ = std::string(event->get_string());
    const json::value* name = obj.if_contains("name");
    bool needs_name = flow_->trigger_event_ == "connect.event";
    if (name != nullptr) {
      if (!name->is_string() || name->get_string().empty() || name->get_string().size() > 100 ||
          HasControlChars(name->get_string())) {
        Error("", "trigger.name", 0, "must be text of 1 to 100 characters");
      } else if (flow_->trigger_event_ != "connect.event" &&
                 flow_->trigger_event_ != "button.clicked") {
        Error("", "trigger.name", 0, "only connect.event and button.clicked triggers have a name");
      } else {
        flow_->trigger_name_ = std::string(name->get_string());
      }
    } else if (needs_name) {
      Error("", "trigger.name", 0, "a connect.event trigger names the event");
    }
    if (const json::value* filter = obj.if_contains("filter")) {
      if (!filter->is_string()) {
        Error("", "trigger.filter", 0, "must be an expression (text)");
      } else {
        ExprError e;
        if (!ParseExpression(filter->get_string(), limits_.expr, &flow_->trigger_filter_, &e)) {
          Error("", "trigger.filter", e.column, e.message);
        }
      }
    }
  }

  void Nodes(const json::value* nodes) {
    if (nodes == nullptr || !nodes->is_array() || nodes->get_array().empty()) {
      Error("", "nodes", 0, "must be a non-empty list");
      return;
    }
    const json::array& arr = nodes->get_array();
    if (arr.size() > limits_.max_nodes) {
      Error("", "nodes", 0, absl::StrCat("more than ", limits_.max_nodes, " nodes"));
      return;
    }
    for (size_t i = 0; i < arr.size(); ++i) {
      Node node;
      if (NodeFrom(arr[i], i, &node)) {
        if (flow_->index_.contains(node.id)) {
          Error(node.id, "id", 0, "duplicate node id");
          continue;
        }
        flow_->index_[node.id] = flow_->nodes_.size();
        flow_->nodes_.push_back(std::move(node));
      }
    }
    // Edges are checked once every id is known (nodes may point forward).
    for (const Node& n : flow_->nodes_) {
      if (!n.next.empty() && flow_->Find(n.next) == nullptr) {
        Error(n.id, "next", 0, absl::StrCat("no node '", n.next, "'"));
      }
      for (const auto& [outcome, target] : n.branches) {
        if (flow_->Find(target) == nullptr) {
          Error(n.id, absl::StrCat("branches.", outcome), 0,
                absl::StrCat("no node '", target, "'"));
        }
      }
    }
  }

  bool NodeFrom(const json::value& v, size_t index, Node* node) {
    std::string where = absl::StrCat("#", index + 1);
    if (!v.is_object()) {
      Error(where, "", 0, "a node must be an object");
      return false;
    }
    const json::object& obj = v.get_object();
    const json::value* id = obj.if_contains("id");
    if (id == nullptr || !id->is_string() || !IsNodeId(id->get_string())) {
      Error(where, "id", 0, "must be 1-64 letters, digits, '_' or '-', starting with a letter");
      return false;
    }
    node->id = std::string(id->get_string());
    const json::value* kind = obj.if_contains("kind");
    const KindSpec* spec =
        kind != nullptr && kind->is_string() ? FindKind(kind->get_string()) : nullptr;
    if (spec == nullptr) {
      std::vector<std::string_view> names;
      for (const KindSpec& k : Kinds()) {
        names.push_back(k.name);
      }
      Error(node->id, "kind", 0, absl::StrCat("must be one of ", JoinViews(names, ", ")));
      return false;
    }
    node->kind = spec->kind;
    int before = errors_;
    for (const auto& kv : obj) {
      std::string_view k = kv.key();
      if (k == "id" || k == "kind") {
        continue;
      }
      if (k == "label") {
        if (!kv.value().is_string() || kv.value().get_string().size() > 200) {
          Error(node->id, "label", 0, "must be text of at most 200 characters");
        } else {
          node->label = std::string(kv.value().get_string());
        }
        continue;
      }
      if (k == "ui") {
        CheckUi(node->id, kv.value());
        continue;
      }
      if (k == "next") {
        if (!spec->has_next) {
          Error(node->id, "next", 0, "an end node has no next");
        } else if (!kv.value().is_string() || !IsNodeId(kv.value().get_string())) {
          Error(node->id, "next", 0, "must be a node id");
        } else {
          node->next = std::string(kv.value().get_string());
        }
        continue;
      }
      if (k == "branches") {
        Branches(*spec, kv.value(), node);
        continue;
      }
      const FieldSpec* field = nullptr;
      for (const FieldSpec& f : spec->fields) {
        if (f.name == k) {
          field = &f;
        }
      }
      if (field == nullptr) {
        Error(node->id, std::string(k), 0,
              absl::StrCat("unknown field for a ", Av(spec->name), " node"));
        continue;
      }
      Field(*field, kv.value(), node);
    }
    for (const FieldSpec& f : spec->fields) {
      if (f.required && !obj.contains(f.name)) {
        Error(node->id, std::string(f.name), 0, "required");
      }
    }
    if (errors_ == before) {
      KindRules(*spec, obj, node);
    }
    return errors_ == before;
  }

  void Branches(const KindSpec& spec, const json::value& v, Node* node) {
    if (!v.is_object()) {
      Error(node->id, "branches", 0, "must be an object of outcome → node id");
      return;
    }
    if (spec.branches.empty() && !spec.open_branches) {
      Error(node->id, "branches", 0, absl::StrCat("a ", Av(spec.name), " node has only next"));
      return;
    }
    if (v.get_object().size() > limits_.max_branches) {
      Error(node->id, "branches", 0, absl::StrCat("more than ", limits_.max_branches));
      return;
    }
    for (const auto& kv : v.get_object()) {
      std::string outcome(kv.key());
      std::string field = absl::StrCat("branches.", outcome);
      bool fixed =
          std::find(spec.branches.begin(), spec.branches.end(), outcome) != spec.branches.end();
      if (!fixed && !spec.open_branches) {
        Error(node->id, field, 0,
              absl::StrCat("a ", Av(spec.name), " node's outcomes are ",
                           JoinViews(spec.branches, ", ")));
        continue;
      }
      if (outcome.empty() || outcome.size() > 100) {
        Error(node->id, "branches", 0, "an outcome must be 1 to 100 characters");
        continue;
      }
      if (!kv.value().is_string() || !IsNodeId(kv.value().get_string())) {
        Error(node->id, field, 0, "must be a node id");
        continue;
      }
      node->branches[outcome] = std::string(kv.value().get_string());
    }
  }

  void CompileTemplate(const std::string& node_id, const std::string& field, const json::value& v,
                       Template* out) {
    if (!v.is_string()) {
      Error(node_id, field, 0, "must be text (a template)");
      return;
    }
    ExprError e;
    if (!ParseTemplate(v.get_string(), limits_.expr, out, &e)) {
      Error(node_id, field, e.column, e.message);
    }
  }

  void Field(const FieldSpec& f, const json::value& v, Node* node) {
    std::string field(f.name);
    switch (f.type) {
      case FieldType::kExpr: {
        if (!v.is_string()) {
          Error(node->id, field, 0, "must be an expression (text)");
          return;
        }
        ExprError e;
        Expression expr;
        if (!ParseExpression(v.get_string(), limits_.expr, &expr, &e)) {
          Error(node->id, field, e.column, e.message);
          return;
        }
        node->exprs[field] = std::move(expr);
        return;
      }
      case FieldType::kTemplate:
      case FieldType::kUrlTemplate: {
        Template t;
        CompileTemplate(node->id, field, v, &t);
        node->templates[field] = std::move(t);
        return;
      }
      case FieldType::kEnum:
        if (!v.is_string() || std::find(f.values.begin(), f.values.end(),
                                        std::string_view(v.get_string())) == f.values.end()) {
          Error(node->id, field, 0, absl::StrCat("must be one of ", JoinViews(f.values, ", ")));
          return;
        }
        node->strings[field] = std::string(v.get_string());
        return;
      case FieldType::kVarName:
        if (!v.is_string() || !IsVarName(v.get_string())) {
          Error(node->id, field, 0,
                "must be a variable name: letters, digits and '_', not starting with a digit");
          return;
        }
        node->strings[field] = std::string(v.get_string());
        return;
      case FieldType::kName:
        if (!v.is_string() || !IsNodeId(v.get_string())) {
          Error(node->id, field, 0, "must be a configured name (letters, digits, '_', '-')");
          return;
        }
        node->strings[field] = std::string(v.get_string());
        return;
      case FieldType::kNumber:
      case FieldType::kInteger: {
        bool is_num = v.is_int64() || v.is_uint64() || v.is_double();
        double d = v.is_int64()    ? static_cast<double>(v.get_int64())
                   : v.is_uint64() ? static_cast<double>(v.get_uint64())
                   : v.is_double() ? v.get_double()
                                   : 0;
        if (!is_num || d < f.min || d > f.max ||
            (f.type == FieldType::kInteger && std::trunc(d) != d)) {
          Error(node->id, field, 0,
                absl::StrCat("must be ", f.type == FieldType::kInteger ? "an integer" : "a number",
                             " from ", f.min, " to ", f.max));
          return;
        }
        node->numbers[field] = d;
        return;
      }
      case FieldType::kBool:
        if (!v.is_bool()) {
          Error(node->id, field, 0, "must be true or false");
          return;
        }
        node->bools[field] = v.get_bool();
        return;
      case FieldType::kTemplateMap: {
        if (!v.is_object() || v.get_object().size() > limits_.max_fields) {
          Error(node->id, field, 0,
                absl::StrCat("must be an object of at most ", limits_.max_fields, " templates"));
          return;
        }
        for (const auto& kv : v.get_object()) {
          std::string key(kv.key());
          std::string sub = absl::StrCat(field, ".", key);
          if (!IsHeaderName(key)) {
            Error(node->id, sub, 0, "names are 1-64 letters, digits, '-' or '_'");
            continue;
          }
          if (field == "headers" && IsForbiddenHeader(key)) {
            Error(node->id, sub, 0,
                  "not allowed: use \"credential\" for authentication, the host sets framing");
            continue;
          }
          Template t;
          CompileTemplate(node->id, sub, kv.value(), &t);
          node->template_map.emplace_back(key, std::move(t));
        }
        return;
      }
      case FieldType::kJsonTemplate:
        node->body.shape = v;
        node->body.present = true;
        if (json::serialize(v).size() > limits_.expr.max_string) {
          Error(node->id, field, 0, "too large");
          return;
        }
        CollectLeaves(node->id, field, v, &node->body.leaves, 0);
        return;
      case FieldType::kTemplateList: {
        if (!v.is_array() || v.get_array().size() > limits_.max_fields) {
          Error(node->id, field, 0,
                absl::StrCat("must be a list of at most ", limits_.max_fields, " templates"));
          return;
        }
        size_t i = 0;
        for (const auto& item : v.get_array()) {
          Template t;
          CompileTemplate(node->id, absl::StrCat(field, "[", i++, "]"), item, &t);
          node->template_list.push_back(std::move(t));
        }
        return;
      }
      case FieldType::kButtons: {
        if (!v.is_array() || v.get_array().size() > limits_.max_buttons) {
          Error(node->id, field, 0,
                absl::StrCat("must be a list of at most ", limits_.max_buttons, " buttons"));
          return;
        }
        size_t i = 0;
        for (const auto& item : v.get_array()) {
          std::string sub = absl::StrCat(field, "[", i++, "]");
          const json::object* b = item.if_object();
          const json::value* bid = b ? b->if_contains("id") : nullptr;
          const json::value* label = b ? b->if_contains("label") : nullptr;
          if (b == nullptr || bid == nullptr || label == nullptr || b->size() != 2 ||
              !bid->is_string() || !IsNodeId(bid->get_string()) || bid->get_string() == "timeout") {
            Error(node->id, sub, 0,
                  "a button is {\"id\": <name other than timeout>, \"label\": <template>}");
            continue;
          }
          Button button;
          button.id = std::string(bid->get_string());
          for (const Button& other : node->buttons) {
            if (other.id == button.id) {
              Error(node->id, sub, 0, "duplicate button id");
            }
          }
          CompileTemplate(node->id, absl::StrCat(sub, ".label"), *label, &button.label);
          node->buttons.push_back(std::move(button));
        }
        return;
      }
    }
  }

  void CollectLeaves(const std::string& node_id, const std::string& field, const json::value& v,
                     std::vector<Template>* leaves, int depth) {
    if (depth > 16) {
      Error(node_id, field, 0, "nested deeper than 16");
      return;
    }
    if (v.is_string()) {
      Template t;
      CompileTemplate(node_id, field, v, &t);
      leaves->push_back(std::move(t));
    } else if (v.is_array()) {
      for (const auto& item : v.get_array()) {
        CollectLeaves(node_id, field, item, leaves, depth + 1);
      }
    } else if (v.is_object()) {
      for (const auto& kv : v.get_object()) {
        CollectLeaves(node_id, field, kv.value(), leaves, depth + 1);
      }
    }
  }

  // Rules that depend on other fields of the same node.
  void KindRules(const KindSpec& spec, const json::object& obj, Node* node) {
    auto need = [&](std::string_view field, std::string_view why) {
      if (!obj.contains(field)) {
        Error(node->id, std::string(field), 0, std::string(why));
      }
    };
    auto forbid = [&](std::string_view field, std::string_view why) {
      if (obj.contains(field)) {
        Error(node->id, std::string(field), 0, std::string(why));
      }
    };
    switch (spec.kind) {
      case NodeKind::kFormat: {
        std::string op = node->Str("op");
        if (op == "replace") {
          need("from", "required for op replace");
        }
        if (op == "slice") {
          need("start", "required for op slice");
        }
        for (std::string_view f : {"country"}) {
          if (op != "e164") {
            forbid(f, "only for op e164");
          }
        }
        for (std::string_view f : {"pattern", "timezone"}) {
          if (op != "date") {
            forbid(f, "only for op date");
          }
        }
        if (op != "join") {
          forbid("separator", "only for op join");
        }
        if (op != "replace") {
          forbid("from", "only for op replace");
          forbid("to", "only for op replace");
        }
        if (op != "slice") {
          forbid("start", "only for op slice");
          forbid("end", "only for op slice");
        }
        break;
      }
      case NodeKind::kScreenPop: {
        std::string target = node->Str("target");
        std::vector<std::string_view> allowed;
        if (target == "record") {
          need("recordType", "required for target record");
          need("recordId", "required for target record");
          allowed = {"recordType", "recordId"};
        } else if (target == "newRecord") {
          need("recordType", "required for target newRecord");
          allowed = {"recordType", "fields"};
        } else if (target == "search") {
          need("query", "required for target search");
          allowed = {"query"};
        } else {
          need("url", "required for target url");
          allowed = {"url"};
        }
        for (std::string_view f : {"recordType", "recordId", "fields", "query", "url"}) {
          if (std::find(allowed.begin(), allowed.end(), f) == allowed.end()) {
            forbid(f, absl::StrCat("not used by target ", target));
          }
        }
        break;
      }
      case NodeKind::kToast:
        for (const auto& [outcome, target] : node->branches) {
          if (outcome == "timeout") {
            continue;
          }
          bool found = false;
          for (const Button& b : node->buttons) {
            found = found || b.id == outcome;
          }
          if (!found) {
            Error(node->id, absl::StrCat("branches.", outcome), 0,
                  "no button with this id (outcomes are button ids and timeout)");
          }
        }
        break;
      case NodeKind::kLogActivity:
        if (node->Str("via", "crm") == "http") {
          need("url", "required when via is http");
        } else {
          forbid("url", "only when via is http");
          forbid("credential", "only when via is http");
        }
        break;
      case NodeKind::kHttpRequest:
        if (node->Str("method") != "POST") {
          forbid("body", "only a POST has a body");
        }
        break;
      default:
        break;
    }
  }

  void Reachability() {
    absl::flat_hash_map<std::string, bool> seen;
    std::deque<std::string> queue{flow_->start_};
    while (!queue.empty()) {
      std::string id = queue.front();
      queue.pop_front();
      if (seen[id]) {
        continue;
      }
      seen[id] = true;
      const Node* n = flow_->Find(id);
      if (n == nullptr) {
        continue;
      }
      if (!n->next.empty()) {
        queue.push_back(n->next);
      }
      for (const auto& [outcome, target] : n->branches) {
        queue.push_back(target);
      }
    }
    for (const Node& n : flow_->nodes_) {
      if (!seen[n.id]) {
        Error(n.id, "", 0, "unreachable from start", /*warning=*/true);
      }
    }
  }

  const FlowLimits& limits_;
  std::vector<Diagnostic>* out_;
  Flow* flow_ = nullptr;
  int errors_ = 0;
};

std::string FormatDiagnostic(std::string_view flow_name, const Diagnostic& d) {
  std::string s = absl::StrCat("flow '", flow_name.empty() ? "?" : Av(flow_name), "'");
  if (!d.node.empty()) {
    absl::StrAppend(&s, ", node '", d.node, "'");
  }
  if (!d.field.empty()) {
    absl::StrAppend(&s, ", field '", d.field, "'");
  }
  if (d.column > 0) {
    absl::StrAppend(&s, ", column ", d.column);
  }
  absl::StrAppend(&s, ": ", d.message);
  return s;
}

json::object DiagnosticToJson(const Diagnostic& d) {
  json::object o;
  if (!d.node.empty()) {
    o["node"] = d.node;
  }
  if (!d.field.empty()) {
    o["field"] = d.field;
  }
  if (d.column > 0) {
    o["column"] = d.column;
  }
  o["message"] = d.message;
  o["severity"] = d.warning ? "warning" : "error";
  return o;
}

absl::StatusOr<json::value> ParseJsonBounded(std::string_view text, size_t max_bytes,
                                             int max_depth) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("JSON larger than ", max_bytes, " bytes"));
  }
  json::parse_options opts;
  opts.max_depth = static_cast<std::size_t>(max_depth);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, json::storage_ptr(), opts);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", ec.message()));
  }
  return v;
}

absl::StatusOr<std::shared_ptr<const Flow>> LoadFlow(const json::value& json,
                                                     const FlowLimits& limits,
                                                     std::vector<Diagnostic>* diagnostics) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* out = diagnostics != nullptr ? diagnostics : &local;
  FlowBuilder builder(limits, out);
  std::shared_ptr<Flow> flow = builder.Build(json);
  if (flow == nullptr) {
    std::string name;
    if (const json::object* o = json.if_object()) {
      if (const json::value* n = o->if_contains("name"); n && n->is_string()) {
        name = std::string(n->get_string());
      }
    }
    for (const Diagnostic& d : *out) {
      if (!d.warning) {
        return absl::InvalidArgumentError(FormatDiagnostic(name, d));
      }
    }
    return absl::InvalidArgumentError(absl::StrCat("flow '", name, "' is invalid"));
  }
  return std::shared_ptr<const Flow>(std::move(flow));
}

absl::StatusOr<std::shared_ptr<const Flow>> LoadFlowText(std::string_view text,
                                                         const FlowLimits& limits,
                                                         std::vector<Diagnostic>* diagnostics) {
  auto parsed = ParseJsonBounded(text, limits.max_json_bytes, limits.max_json_depth);
  if (!parsed.ok()) {
    if (diagnostics != nullptr) {
      diagnostics->push_back(Diagnostic{"", "", 0, std::string(parsed.status().message())});
    }
    return parsed.status();
  }
  return LoadFlow(*parsed, limits, diagnostics);
}

const std::string& FlowName(const Flow& flow) { return flow.name(); }

const std::string& FlowTriggerEvent(const Flow& flow) { return flow.trigger_event(); }

}  // namespace omnibridge::popflow
