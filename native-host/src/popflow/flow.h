// Internal: the in-memory form of a loaded, validated flow. Built only by LoadFlow (popflow.h),
// immutable afterwards and shared between the runs that use it, so a run keeps the version it
// started on even when a newer one is deployed mid-run.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "boost/json.hpp"

#include "popflow/expr.h"

namespace omnibridge::popflow {

enum class NodeKind {
  kIf,
  kSwitch,
  kSet,
  kUnset,
  kFormat,
  kCrmSearch,
  kScreenPop,
  kToast,
  kFillField,
  kSetDisposition,
  kLogActivity,
  kHttpRequest,
  kSetAgentState,
  kDelay,
  kLaunchApp,
  kEnd,
};

std::string_view NodeKindName(NodeKind kind);

struct Button {
  std::string id;
  Template label;
};

// A JSON value whose string leaves are templates (httpRequest body): the structure is fixed by
// the flow, only leaf values come from data, so data can never break the JSON.
struct JsonTemplate {
  boost::json::value shape;
  std::vector<Template> leaves;  // string leaves in document order
  bool present = false;
};

struct Node {
  std::string id;
  NodeKind kind = NodeKind::kEnd;
  std::string label;
  std::string next;                             // "" = the run ends after this node
  std::map<std::string, std::string> branches;  // outcome → node id

  absl::flat_hash_map<std::string, Expression> exprs;
  absl::flat_hash_map<std::string, Template> templates;
  absl::flat_hash_map<std::string, std::string> strings;  // enums, names
  absl::flat_hash_map<std::string, double> numbers;
  absl::flat_hash_map<std::string, bool> bools;
  std::vector<std::pair<std::string, Template>> template_map;  // newRecord fields, headers
  std::vector<Template> template_list;                         // launchApp args
  std::vector<Button> buttons;
  JsonTemplate body;

  const Expression* Expr(std::string_view field) const {
    auto it = exprs.find(Av(field));
    return it == exprs.end() ? nullptr : &it->second;
  }

  const Template* Tpl(std::string_view field) const {
    auto it = templates.find(Av(field));
    return it == templates.end() ? nullptr : &it->second;
  }

  std::string Str(std::string_view field, std::string_view fallback = "") const {
    auto it = strings.find(Av(field));
    return it == strings.end() ? std::string(fallback) : it->second;
  }

  double Num(std::string_view field, double fallback) const {
    auto it = numbers.find(Av(field));
    return it == numbers.end() ? fallback : it->second;
  }

  bool Bool(std::string_view field, bool fallback) const {
    auto it = bools.find(Av(field));
    return it == bools.end() ? fallback : it->second;
  }

  // The node an outcome leads to: its branch when set, else `next`, else "" (end).
  const std::string& Follow(std::string_view outcome) const {
    auto it = branches.find(std::string(outcome));
    return it == branches.end() ? next : it->second;
  }
};

class Flow {
 public:
  const std::string& name() const { return name_; }

  const std::string& description() const { return description_; }

  const std::string& trigger_event() const { return trigger_event_; }

  const std::string& trigger_name() const { return trigger_name_; }  // connect/button only

  const Expression& trigger_filter() const { return trigger_filter_; }

  const std::string& start() const { return start_; }

  const std::vector<Node>& nodes() const { return nodes_; }

  const Node* Find(std::string_view id) const {
    auto it = index_.find(Av(id));
    return it == index_.end() ? nullptr : &nodes_[it->second];
  }

  // The JSON the flow was loaded from (what popflow.get returns).
  const boost::json::object& source() const { return source_; }

  // Published version (0 = draft or a flow tested in the designer); set by the store.
  int version() const { return version_; }

  bool enterprise() const { return enterprise_; }

 private:
  friend class FlowBuilder;
  friend class FlowStore;
  std::string name_;
  std::string description_;
  std::string trigger_event_;
  std::string trigger_name_;
  Expression trigger_filter_;
  std::string start_;
  std::vector<Node> nodes_;
  absl::flat_hash_map<std::string, size_t> index_;
  boost::json::object source_;
  int version_ = 0;
  bool enterprise_ = false;
};

}  // namespace omnibridge::popflow
