#pragma once
// Which HTTP library raises in a piece of code once this run is done: AW202 changes an except
// clause only when what its try body calls raises httpx's exceptions after the run.
//
// A call reaches httpx when it is an httpx call in the file as it is now (AW201 ran before on
// it), or a project function that, through its calls, makes an httpx call or a requests call
// AW201 migrates in this run: AW201 is selected, the function is or becomes async, and the
// call is one AW201 can move (read from the file as it was, with the analysis AW201 uses). A
// requests call that stays (refused, in a function that stays sync, or AW201 not selected)
// reaches requests.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "awaitify/calls.hpp"
#include "awaitify/transform.hpp"

namespace awaitify::http {

struct Reach {
  bool httpx = false;
  bool requests = false;
  Reach& operator|=(const Reach& other) {
    httpx |= other.httpx;
    requests |= other.requests;
    return *this;
  }
  // Only httpx: a clause catching requests' exceptions would no longer catch anything.
  bool migrated() const { return httpx && !requests; }
};

class ReachFinder {
 public:
  // current: the facts of the file as it is now (its imports include httpx after AW201).
  ReachFinder(const FileContext& context, const ModuleFacts& current);
  ~ReachFinder();
  Reach of_site(const Site& site);

 private:
  struct Originals;
  Reach of_function(const FunctionFacts& function, int depth);
  Reach of_requests_call(const FunctionFacts& function, const CallFact& call);
  bool is_shared_client_call(const std::string& target) const;
  bool is_library_instance_call(const std::string& target) const;

  const FileContext& context_;
  const ModuleFacts& current_;
  bool aw201_;
  std::map<std::string, Reach> done_;
  std::set<std::string> visiting_;
  std::unique_ptr<Originals> originals_;
};

// A requests call, whatever its form: requests.get, a Session's method.
bool is_requests_http_call(const std::string& target);

// Whether code of this file can reach an HTTP call of either library, through project functions
// at any depth: false means no try body of it reaches httpx after the run, so AW202 has nothing
// to do there. Decided from the index alone (a superset of what ReachFinder finds).
bool may_reach_http(const ModuleFacts& facts, const ProjectIndex& index);

}  // namespace awaitify::http
