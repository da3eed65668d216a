// directspec._core.Dataset: the library's Dataset (train, test, optional validation, id maps and
// load report) seen from Python. Built by the CLI's data path from flags (load_dataset: the
// loaders, --input preparation, --valid-fraction, --subsample) or from id arrays in memory
// (AssembleDataset, with the library's IdMap for raw ids). The pure-Python wrapper in
// directspec/_data.py turns numpy / scipy inputs into the calls below.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli_bridge.hpp"
#include "directspec/data.hpp"
#include "directspec/io/split_directory.hpp"

namespace directspec::python {

namespace py = pybind11;
using IdArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using Pairs = std::vector<std::pair<Id, Id>>;

/// The largest dense id (the count, id + 1, must still fit an Id).
inline constexpr std::int64_t kMaxDenseId = std::numeric_limits<Id>::max() - 1;

/// Reads settings-style flags (["--data", "dir", "--valid-fraction", "0.1", ...]) and loads the
/// data exactly as directspec-train does. Returns the dataset and the preparation report.
inline std::pair<std::shared_ptr<Dataset>, std::string> LoadDatasetFromFlags(
    const std::vector<std::string>& flags) {
  bridge::Settings s = bridge::ParseSettings(flags);
  py::gil_scoped_release release;
  std::string steps;
  auto data = std::make_shared<Dataset>();
  if (!s.input.empty()) {
    PreparedData prepared = bridge::PrepareInput(s);
    if (!s.write_split.empty()) WriteSplitDirectory(s.write_split, prepared);
    steps = prepared.Steps();
    *data = std::move(prepared.dataset);
  } else {
    *data = bridge::LoadData(s);
    bridge::CarveValidationSet(*data, s);
  }
  bridge::SubsampleTrain(*data, s);
  return {data, steps + data->report.Summary()};
}

/// (user, item) pairs from two equally long integer arrays.
inline Pairs PairsOf(const IdArray& users, const IdArray& items, const char* part) {
  if (users.ndim() != 1 || items.ndim() != 1 || users.size() != items.size())
    throw std::invalid_argument(std::string(part) + ": users and items must be 1-d arrays of one " +
                                "length (got " + std::to_string(users.size()) + " and " +
                                std::to_string(items.size()) + " ids)");
  Pairs pairs(static_cast<std::size_t>(users.size()));
  const auto u = users.unchecked<1>();
  const auto i = items.unchecked<1>();
  for (py::ssize_t r = 0; r < users.size(); ++r) {
    if (u(r) < 0 || i(r) < 0 || u(r) > kMaxDenseId || i(r) > kMaxDenseId)
      throw std::out_of_range(std::string(part) + ": row " + std::to_string(r) + " holds (" +
                              std::to_string(u(r)) + ", " + std::to_string(i(r)) +
                              "): ids must lie in [0, " + std::to_string(kMaxDenseId) +
                              "] (pass ids=\"remap\" for arbitrary ids)");
    pairs[static_cast<std::size_t>(r)] = {static_cast<Id>(u(r)), static_cast<Id>(i(r))};
  }
  return pairs;
}

/// A dataset from dense ids; users x items is given, or max id + 1 over all parts.
inline std::shared_ptr<Dataset> DatasetFromIds(const Pairs& train, Pairs test,
                                               std::optional<Pairs> valid, Index users,
                                               Index items) {
  auto grow = [&](const Pairs& part) {
    for (const auto& [u, i] : part) {
      users = std::max<Index>(users, u + 1);
      items = std::max<Index>(items, i + 1);
    }
  };
  if (users < 0 || items < 0) {
    const Index given_users = users, given_items = items;
    users = items = 0;
    grow(train);
    grow(test);
    if (valid) grow(*valid);
    if (given_users >= 0) users = given_users;
    if (given_items >= 0) items = given_items;
  }
  auto data = std::make_shared<Dataset>(
      AssembleDataset(users, items, train, std::move(test), std::move(valid)));
  data->report.source = "arrays";
  return data;
}

/// A dataset from raw id tokens, mapped to dense ids by first appearance (train, then
/// validation, then test), as the file loaders do with --ids remap.
inline std::shared_ptr<Dataset> DatasetFromTokens(
    const std::vector<std::vector<std::string>>& train,
    const std::vector<std::vector<std::string>>& test,
    const std::optional<std::vector<std::vector<std::string>>>& valid) {
  IdMaps maps;
  auto densify = [&](const std::vector<std::vector<std::string>>& part, const char* name) {
    if (part.size() != 2 || part[0].size() != part[1].size())
      throw std::invalid_argument(std::string(name) + ": users and items must be two lists of " +
                                  "one length");
    Pairs pairs(part[0].size());
    for (std::size_t r = 0; r < pairs.size(); ++r)
      pairs[r] = {maps.users.Insert(part[0][r]), maps.items.Insert(part[1][r])};
    return pairs;
  };
  Pairs train_pairs = densify(train, "train");
  std::optional<Pairs> valid_pairs;
  if (valid) valid_pairs = densify(*valid, "valid");
  Pairs test_pairs = densify(test, "test");
  auto data =
      std::make_shared<Dataset>(AssembleDataset(maps.users.Size(), maps.items.Size(), train_pairs,
                                                std::move(test_pairs), std::move(valid_pairs)));
  data->ids = std::move(maps);
  data->report.source = "arrays";
  data->report.ids = IdPolicy::kRemap;
  return data;
}

/// The same dataset with `valid` (dense pairs in its index space) as its validation part.
inline std::shared_ptr<Dataset> WithValidation(const Dataset& d, Pairs valid) {
  auto out = std::make_shared<Dataset>(d);
  out->valid = Interactions::FromPairs(d.Users(), d.Items(), valid);
  out->valid_pairs = std::move(valid);
  return out;
}

/// One part as CSR arrays (indptr int64, indices int32), copied.
inline py::tuple PartCsr(const Interactions& part) {
  const CsrView v = part.View();
  py::array_t<std::int64_t> indptr(static_cast<py::ssize_t>(v.offsets.size()));
  py::array_t<std::int32_t> indices(static_cast<py::ssize_t>(v.columns.size()));
  std::copy(v.offsets.begin(), v.offsets.end(), indptr.mutable_data());
  std::copy(v.columns.begin(), v.columns.end(), indices.mutable_data());
  return py::make_tuple(indptr, indices);
}

inline void BindDataset(py::module_& m) {
  py::class_<Dataset, std::shared_ptr<Dataset>>(m, "Dataset")
      .def_property_readonly("n_users", &Dataset::Users)
      .def_property_readonly("n_items", &Dataset::Items)
      .def_property_readonly("has_valid", [](const Dataset& d) { return d.valid.has_value(); })
      .def_property_readonly("has_ids", [](const Dataset& d) { return d.ids.has_value(); })
      .def("raw_ids",
           [](const Dataset& d, const std::string& side) -> py::object {
             if (!d.ids) return py::none();
             return py::cast(side == "user" ? d.ids->users.RawIds() : d.ids->items.RawIds());
           })
      .def("part_csr",
           [](const Dataset& d, const std::string& part) {
             if (part == "train") return PartCsr(d.train);
             if (part == "test") return PartCsr(d.test);
             if (part == "valid" && d.valid) return PartCsr(*d.valid);
             throw std::invalid_argument("Dataset: no part '" + part + "'");
           })
      .def("report", [](const Dataset& d) { return d.report.Summary(); });
  m.def("load_dataset_flags", &LoadDatasetFromFlags, py::arg("flags"));
  m.def(
      "dataset_from_ids",
      [](const IdArray& tu, const IdArray& ti, const IdArray& su, const IdArray& si,
         std::optional<IdArray> vu, std::optional<IdArray> vi, Index users, Index items) {
        std::optional<Pairs> valid;
        if (vu && vi) valid = PairsOf(*vu, *vi, "valid");
        return DatasetFromIds(PairsOf(tu, ti, "train"), PairsOf(su, si, "test"), std::move(valid),
                              users, items);
      },
      py::arg("train_users"), py::arg("train_items"), py::arg("test_users"), py::arg("test_items"),
      py::arg("valid_users"), py::arg("valid_items"), py::arg("n_users"), py::arg("n_items"));
  m.def("dataset_from_tokens", &DatasetFromTokens, py::arg("train"), py::arg("test"),
        py::arg("valid"));
  m.def(
      "with_validation",
      [](const Dataset& d, const IdArray& users, const IdArray& items) {
        return WithValidation(d, PairsOf(users, items, "valid"));
      },
      py::arg("dataset"), py::arg("users"), py::arg("items"));
}

}  // namespace directspec::python
