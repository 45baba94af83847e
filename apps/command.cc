#include "apps/command.h"

#include <iostream>

namespace ccburst::apps {

int Fail(const absl::Status& s) {
  std::cerr << "ccburst: " << s.message() << "\n";
  return 1;
}

}  // namespace ccburst::apps
