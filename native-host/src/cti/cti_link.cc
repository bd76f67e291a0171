#include "cti/cti_link.h"

namespace omnibridge::cti {

std::string_view LinkStateName(LinkState state) {
  switch (state) {
    case LinkState::kConnecting:
      return "connecting";
    case LinkState::kUp:
      return "up";
    case LinkState::kDown:
      return "down";
  }
  return "down";
}

std::string_view CommandName(const Command& command) {
  struct Namer {
    std::string_view operator()(const QueueLogin&) const { return "QueueLogin"; }

    std::string_view operator()(const QueueLogout&) const { return "QueueLogout"; }

    std::string_view operator()(const PauseMember&) const { return "PauseMember"; }

    std::string_view operator()(const Dial&) const { return "Dial"; }

    std::string_view operator()(const Hangup&) const { return "Hangup"; }

    std::string_view operator()(const Transfer&) const { return "Transfer"; }

    std::string_view operator()(const Hold&) const { return "Hold"; }

    std::string_view operator()(const Answer&) const { return "Answer"; }

    std::string_view operator()(const TaskAccept&) const { return "TaskAccept"; }

    std::string_view operator()(const TaskDecline&) const { return "TaskDecline"; }

    std::string_view operator()(const TaskComplete&) const { return "TaskComplete"; }

    std::string_view operator()(const RouteTask&) const { return "RouteTask"; }

    std::string_view operator()(const WithdrawTask&) const { return "WithdrawTask"; }
  };

  return std::visit(Namer{}, command);
}

}  // namespace omnibridge::cti
