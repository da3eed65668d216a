// FirstException: carries an exception out of an OpenMP parallel region. Every parallel region
// of the library (training sides, sparse products, evaluation, recommendation) runs its work
// through it. An exception may not leave a region or a critical section: the runtime would call
// std::terminate (an out-of-memory abort instead of an error) or keep the lock forever. So each
// thread runs its work through Run(), which keeps the first exception and skips later work once
// something failed; Rethrow() raises that exception on the calling thread after the region.
//
//   FirstException errors;
//   #pragma omp parallel for
//   for (Index b = 0; b < batches; ++b) errors.Run([&] { Work(b); });
//   errors.Rethrow();
//
// No OpenMP dependency: the same code runs serially when OpenMP is off.
#pragma once

#include <atomic>
#include <exception>
#include <utility>

namespace directspec {

class FirstException {
 public:
  FirstException() = default;
  FirstException(const FirstException&) = delete;
  FirstException& operator=(const FirstException&) = delete;

  /// Runs f() unless an earlier call failed; an exception from f is kept (the first one wins)
  /// instead of propagating.
  template <class F>
  void Run(F&& f) noexcept {
    if (Failed()) return;
    try {
      std::forward<F>(f)();
    } catch (...) {
      Capture(std::current_exception());
    }
  }

  /// True once some Run() has thrown (cheap: threads poll it to stop early).
  bool Failed() const noexcept { return failed_.load(std::memory_order_relaxed); }

  /// Throws the kept exception, if any. Call after the parallel region (its closing barrier
  /// orders the store in Capture before this read).
  void Rethrow() {
    if (failed_.load(std::memory_order_acquire)) std::rethrow_exception(error_);
  }

 private:
  void Capture(std::exception_ptr e) noexcept {
    if (claimed_.test_and_set(std::memory_order_acq_rel)) return;  // a later failure
    error_ = std::move(e);
    failed_.store(true, std::memory_order_release);
  }

  std::atomic_flag claimed_ = ATOMIC_FLAG_INIT;
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

}  // namespace directspec
