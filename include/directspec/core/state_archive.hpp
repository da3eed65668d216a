// StateArchive: named arrays that hold the state of a training run between its pieces and a
// checkpoint file. The trainer, the optimizers and the stateful callbacks put what they need to
// continue (tables, moments, counters, best-so-far) under their own names; io/checkpoint.hpp
// writes the archive to disk and reads it back, and each piece takes its entries out again,
// checking kind and shape. Kept in core so that every layer can save its state without knowing
// about files.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "directspec/core/types.hpp"

namespace directspec {

/// A missing, mistyped or misshapen entry (the message names it); io/checkpoint.hpp adds the file.
struct StateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class StateArchive {
 public:
  /// Element type of an entry (the codes are part of the checkpoint format).
  enum class Kind : std::uint32_t { kFloat32 = 1, kFloat64 = 2, kInt64 = 3, kText = 4 };

  /// One named array: rows x cols elements of `kind`, row-major (text: rows = bytes, cols = 1).
  struct Entry {
    Kind kind = Kind::kFloat64;
    std::uint64_t rows = 0, cols = 0;
    std::vector<float> f32;
    std::vector<double> f64;
    std::vector<std::int64_t> i64;
    std::string text;

    bool operator==(const Entry&) const = default;
  };

  // ------------------------------------------------------------------------------------- put
  template <class S>
  void PutMatrix(const std::string& name, const RowMatrix<S>& m) {
    static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                  "StateArchive stores float or double matrices");
    Entry e;
    e.rows = static_cast<std::uint64_t>(m.rows());
    e.cols = static_cast<std::uint64_t>(m.cols());
    if constexpr (std::is_same_v<S, float>) {
      e.kind = Kind::kFloat32;
      e.f32.assign(m.data(), m.data() + m.size());
    } else {
      e.kind = Kind::kFloat64;
      e.f64.assign(m.data(), m.data() + m.size());
    }
    Put(name, std::move(e));
  }
  void PutReals(const std::string& name, std::span<const double> values) {
    Entry e;
    e.kind = Kind::kFloat64;
    e.rows = values.size();
    e.cols = 1;
    e.f64.assign(values.begin(), values.end());
    Put(name, std::move(e));
  }
  void PutReal(const std::string& name, double value) { PutReals(name, {&value, 1}); }
  void PutInts(const std::string& name, std::span<const std::int64_t> values) {
    Entry e;
    e.kind = Kind::kInt64;
    e.rows = values.size();
    e.cols = 1;
    e.i64.assign(values.begin(), values.end());
    Put(name, std::move(e));
  }
  void PutInt(const std::string& name, std::int64_t value) { PutInts(name, {&value, 1}); }
  void PutText(const std::string& name, std::string text) {
    Entry e;
    e.kind = Kind::kText;
    e.rows = text.size();
    e.cols = 1;
    e.text = std::move(text);
    Put(name, std::move(e));
  }
  /// Adds (or replaces) an entry as is; the reader of a file uses it.
  void Put(const std::string& name, Entry entry) { entries_[name] = std::move(entry); }

  // ------------------------------------------------------------------------------------- get
  bool Has(const std::string& name) const { return entries_.count(name) != 0; }
  const std::map<std::string, Entry>& Entries() const { return entries_; }

  /// The matrix `name`, which must hold S elements; with expected_rows / expected_cols >= 0 it
  /// must have that shape too.
  template <class S>
  void GetMatrix(const std::string& name, RowMatrix<S>& out, Index expected_rows = -1,
                 Index expected_cols = -1) const {
    const Entry& e = Find(name, std::is_same_v<S, float> ? Kind::kFloat32 : Kind::kFloat64);
    if ((expected_rows >= 0 && e.rows != static_cast<std::uint64_t>(expected_rows)) ||
        (expected_cols >= 0 && e.cols != static_cast<std::uint64_t>(expected_cols)))
      throw StateError("state entry '" + name + "' is " + std::to_string(e.rows) + " x " +
                       std::to_string(e.cols) + ", expected " + std::to_string(expected_rows) +
                       " x " + std::to_string(expected_cols));
    out.resize(static_cast<Index>(e.rows), static_cast<Index>(e.cols));
    if constexpr (std::is_same_v<S, float>)
      std::copy(e.f32.begin(), e.f32.end(), out.data());
    else
      std::copy(e.f64.begin(), e.f64.end(), out.data());
  }
  const std::vector<double>& GetReals(const std::string& name) const {
    return Find(name, Kind::kFloat64).f64;
  }
  double GetReal(const std::string& name) const { return Single(name, GetReals(name)); }
  const std::vector<std::int64_t>& GetInts(const std::string& name) const {
    return Find(name, Kind::kInt64).i64;
  }
  std::int64_t GetInt(const std::string& name) const { return Single(name, GetInts(name)); }
  const std::string& GetText(const std::string& name) const { return Find(name, Kind::kText).text; }

  /// Kind of an entry (StateError when absent).
  Kind KindOf(const std::string& name) const { return At(name).kind; }

  static const char* KindName(Kind kind) {
    switch (kind) {
      case Kind::kFloat32:
        return "float32";
      case Kind::kFloat64:
        return "float64";
      case Kind::kInt64:
        return "int64";
      case Kind::kText:
        return "text";
    }
    return "?";
  }

  bool operator==(const StateArchive&) const = default;

 private:
  const Entry& At(const std::string& name) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) throw StateError("state entry '" + name + "' is missing");
    return it->second;
  }
  const Entry& Find(const std::string& name, Kind kind) const {
    const Entry& e = At(name);
    if (e.kind != kind)
      throw StateError("state entry '" + name + "' holds " + KindName(e.kind) + ", expected " +
                       KindName(kind));
    return e;
  }
  template <class V>
  static typename V::value_type Single(const std::string& name, const V& values) {
    if (values.size() != 1)
      throw StateError("state entry '" + name + "' has " + std::to_string(values.size()) +
                       " values, expected 1");
    return values.front();
  }

  std::map<std::string, Entry> entries_;
};

}  // namespace directspec
