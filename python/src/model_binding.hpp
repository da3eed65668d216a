// directspec._core.Model: one MF or LightGCN model as Python holds it. Its settings are
// directspec-train's flags (parsed and checked by the CLI's parser, presets included); fit()
// builds the trainer with the CLI's factory and trains it without the GIL; afterwards the model
// is the library's Model (tables, id maps, seen items) behind a serve::Recommender, which
// evaluate(), recommend() and save() use. directspec/_model.py is the user-facing wrapper.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli_bridge.hpp"
#include "dataset_binding.hpp"
#include "directspec/directspec.hpp"
#include "fit_listener.hpp"
#include "trainer_session.hpp"

namespace directspec::python {

using Served = Recommender<Scalar>;

/// OpenMP's thread count for a scope (evaluation), as directspec-train sets it for its run.
class OmpThreads {
 public:
  explicit OmpThreads(int threads) {
#if defined(_OPENMP)
    previous_ = omp_get_max_threads();
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
  }
  ~OmpThreads() {
#if defined(_OPENMP)
    omp_set_num_threads(previous_);
#endif
  }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int previous_ = 1;
};

/// The key under which a model file keeps the flags a Python model was built with.
inline constexpr const char* kFlagsKey = "python_flags";

class PyModel {
 public:
  explicit PyModel(std::vector<std::string> flags)
      : flags_(std::move(flags)), settings_(bridge::ParseSettings(flags_)) {
    MakeSession(settings_);  // the library's option checks, before any data is given
  }

  const bridge::Settings& Settings() const { return settings_; }
  const std::vector<std::string>& Flags() const { return flags_; }
  bool Fitted() const { return served_ != nullptr; }

  /// Trains a fresh model on data.train (or continues --resume). `epochs` overrides the
  /// setting for this fit. Returns what the run did; a Python exception that stopped it is
  /// raised after the model has been updated with the tables reached.
  py::dict Fit(std::shared_ptr<const Dataset> data, std::optional<int> epochs, py::object on_step,
               py::object on_epoch, bool library_progress, bool wants_validation,
               const std::map<std::string, std::string>& extra) {
    std::vector<std::string> flags = flags_;
    if (epochs) {
      flags.push_back("--epochs");
      flags.push_back(std::to_string(*epochs));
    }
    bridge::Settings s = bridge::ParseSettings(flags);
    const std::string note = bridge::ClampBatch(s, *data);
    auto session = MakeSession(s);
    PythonFitListener listener(std::move(on_step), std::move(on_epoch), wants_validation);
    TrainingState state;
    {
      py::gil_scoped_release release;
      state = session->Fit(*data, s, listener, library_progress);
      Serve(*session, *data, s, extra);
    }
    settings_ = std::move(s);
    listener.RethrowPending();
    py::dict out;
    out["epochs"] = state.epoch;
    out["loss"] = state.epoch_loss;
    out["train_seconds"] = state.train_seconds;
    out["stopped"] = listener.Stopped() || state.epoch < state.epochs;
    out["note"] = note;
    return out;
  }

  /// The metrics of directspec-train's final evaluation on `d`: test ranked with train (and
  /// validation) excluded, plus the effective rank of [U; I].
  py::dict EvaluateDataset(const Dataset& d, const std::vector<int>& ks,
                           const std::string& metrics) const {
    RequireFitted();
    const Evaluator evaluator(d.EvaluationMask(), d.test_pairs, EvalOptionsOf(ks, metrics));
    return Evaluate(evaluator);
  }

  /// The same on held-out pairs in the model's dense ids, ranked with its seen items excluded.
  py::dict EvaluatePairs(const IdArray& users, const IdArray& items, const std::vector<int>& ks,
                         const std::string& metrics) const {
    RequireFitted();
    const Pairs pairs = PairsOf(users, items, "test");
    const Evaluator evaluator(*mask_, pairs, EvalOptionsOf(ks, metrics));
    return Evaluate(evaluator);
  }

  /// Top-k of dense users: (items int64 n x k, scores float32 n x k), padded with -1 / -inf
  /// when fewer than k items are left.
  py::tuple Recommend(const IdArray& users, Index k, bool exclude_seen) const {
    RequireFitted();
    if (k < 1) throw std::invalid_argument("recommend: k must be >= 1, got " + std::to_string(k));
    std::vector<Id> ids(static_cast<std::size_t>(users.size()));
    const auto u = users.unchecked<1>();
    for (py::ssize_t r = 0; r < users.size(); ++r) {
      if (u(r) < 0 || u(r) >= served_->Users())
        throw std::out_of_range("recommend: user " + std::to_string(u(r)) + " is outside 0.." +
                                std::to_string(served_->Users() - 1));
      ids[static_cast<std::size_t>(r)] = static_cast<Id>(u(r));
    }
    const auto n = static_cast<py::ssize_t>(ids.size());
    const auto width = static_cast<py::ssize_t>(std::min<Index>(k, served_->Items()));
    const std::vector<py::ssize_t> shape{n, width};
    py::array_t<std::int64_t> items(shape);
    py::array_t<float> scores(shape);
    if (n == 0) return py::make_tuple(items, scores);
    std::vector<std::vector<ScoredItem<Scalar>>> lists;
    {
      py::gil_scoped_release release;
      ServeOptions options;
      options.exclude_seen = exclude_seen;
      OmpThreads threads(settings_.threads);
      lists = served_->RecommendMany(ids, k, options);
    }
    auto item = items.mutable_unchecked<2>();
    auto score = scores.mutable_unchecked<2>();
    for (py::ssize_t r = 0; r < n; ++r)
      for (py::ssize_t c = 0; c < width; ++c) {
        const auto& list = lists[static_cast<std::size_t>(r)];
        const bool has = c < static_cast<py::ssize_t>(list.size());
        item(r, c) = has ? list[static_cast<std::size_t>(c)].item : -1;
        score(r, c) =
            has ? list[static_cast<std::size_t>(c)].score : -std::numeric_limits<float>::infinity();
      }
    return py::make_tuple(items, scores);
  }

  /// Dense ids of raw ids (throws ValueError naming an unknown one).
  py::array_t<std::int64_t> DenseIds(const std::vector<std::string>& raw, bool users) const {
    RequireFitted();
    py::array_t<std::int64_t> out(static_cast<py::ssize_t>(raw.size()));
    for (std::size_t r = 0; r < raw.size(); ++r)
      out.mutable_at(static_cast<py::ssize_t>(r)) =
          users ? served_->UserIndex(raw[r]) : served_->ItemIndex(raw[r]);
    return out;
  }

  /// A read-only view of the user (or item) table that keeps the model's tables alive.
  py::array Table(bool users) const {
    RequireFitted();
    const RowMatrix<Scalar>& t = users ? served_->GetModel().users : served_->GetModel().items;
    auto* keep = new std::shared_ptr<const Served>(served_);
    py::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<const Served>*>(p); });
    py::array_t<Scalar> view(
        {static_cast<py::ssize_t>(t.rows()), static_cast<py::ssize_t>(t.cols())},
        {static_cast<py::ssize_t>(t.cols() * sizeof(Scalar)),
         static_cast<py::ssize_t>(sizeof(Scalar))},
        t.data(), owner);
    py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return view;
  }

  const ModelMetadata& Metadata() const {
    RequireFitted();
    return served_->GetModel().metadata;
  }

  /// Saves the library's model file (atomically): tables, id maps, seen items and the
  /// hyperparameters (the flags, and the `extra` ones fit() was given).
  void Save(const std::string& path) const {
    RequireFitted();
    const Model<Scalar>& model = served_->GetModel();
    py::gil_scoped_release release;
    SaveModel(path, model.users, model.items, model.metadata);
  }

  /// A model file (from save() or directspec-train --save-model) as a fitted model; its flags
  /// are the saved ones, or only the encoder for a CLI file.
  static std::unique_ptr<PyModel> Load(const std::string& path) {
    Model<Scalar> model;
    {
      py::gil_scoped_release release;
      model = LoadModel<Scalar>(path);
    }
    const auto& h = model.metadata.hyperparameters;
    std::vector<std::string> flags;
    if (const auto it = h.find(kFlagsKey); it != h.end()) {
      std::istringstream lines(it->second);
      for (std::string line; std::getline(lines, line);) flags.push_back(line);
    } else {
      flags = {"--model", model.metadata.encoder == "lightgcn" ? "lightgcn" : "mf"};
    }
    auto out = std::make_unique<PyModel>(flags);
    out->served_ = std::make_shared<const Served>(std::move(model));
    std::vector<std::pair<Id, Id>> seen;
    if (const auto& s = out->served_->GetModel().metadata.seen)
      for (Id u = 0; u < out->served_->Users(); ++u)
        for (const Id i : s->Of(u)) seen.emplace_back(u, i);
    out->mask_ = std::make_shared<const Interactions>(
        Interactions::FromPairs(out->served_->Users(), out->served_->Items(), seen));
    return out;
  }

 private:
  void RequireFitted() const {
    if (!served_) throw std::logic_error("the model is not fitted: call fit() first");
  }

  /// The model as directspec-train saves and serves it.
  void Serve(const TrainerSession& session, const Dataset& data, const bridge::Settings& s,
             const std::map<std::string, std::string>& extra) {
    RowMatrix<Scalar> U, I;
    session.Embeddings(U, I);
    ModelMetadata meta;
    meta.encoder = s.model;
    std::string flags;
    for (const auto& f : flags_) flags += f + "\n";
    meta.hyperparameters = {{kFlagsKey, flags},
                            {"filter", s.filter},
                            {"loss", s.loss},
                            {"layers", std::to_string(s.layers)},
                            {"layer_weights", s.layer_weights}};
    for (const auto& [key, value] : extra) meta.hyperparameters[key] = value;
    if (data.ids) {
      meta.user_ids = data.ids->users.RawIds();
      meta.item_ids = data.ids->items.RawIds();
    }
    const auto train_rows = data.train.View();
    meta.seen = SeenSets::FromCsr(train_rows.offsets, train_rows.columns);
    served_ =
        std::make_shared<const Served>(Model<Scalar>{std::move(U), std::move(I), std::move(meta)});
    mask_ = std::make_shared<const Interactions>(data.train);
  }

  py::dict Evaluate(const Evaluator& evaluator) const {
    const auto& model = served_->GetModel();
    EvalResult result;
    double erank = 0;
    {
      py::gil_scoped_release release;
      OmpThreads threads(settings_.threads);
      result = evaluator.Evaluate(model.users, model.items);
      erank = EffectiveRank(StackedSingularValues(model.users, model.items));
    }
    py::dict out;
    out["erank"] = erank;
    for (const auto& [name, value] : result.metrics) out[py::str(name)] = value;
    out["eval_seconds"] = result.seconds;
    return out;
  }

  std::vector<std::string> flags_;
  bridge::Settings settings_;
  std::shared_ptr<const Served> served_;      // null until fitted
  std::shared_ptr<const Interactions> mask_;  // the seen items, for EvaluatePairs
};

inline void BindModel(py::module_& m) {
  py::class_<PyModel>(m, "Model")
      .def(py::init<std::vector<std::string>>(), py::arg("flags"))
      .def_property_readonly("fitted", &PyModel::Fitted)
      .def_property_readonly("model", [](const PyModel& p) { return p.Settings().model; })
      .def_property_readonly("flags", &PyModel::Flags)
      .def_property_readonly("threads", [](const PyModel& p) { return p.Settings().threads; })
      .def_property_readonly("topk", [](const PyModel& p) { return p.Settings().topk; })
      .def_property_readonly("metrics", [](const PyModel& p) { return p.Settings().metrics; })
      .def("fit", &PyModel::Fit, py::arg("data"), py::arg("epochs"), py::arg("on_step"),
           py::arg("on_epoch"), py::arg("library_progress"), py::arg("wants_validation"),
           py::arg("extra"))
      .def("evaluate_dataset", &PyModel::EvaluateDataset, py::arg("data"), py::arg("ks"),
           py::arg("metrics"))
      .def("evaluate_pairs", &PyModel::EvaluatePairs, py::arg("users"), py::arg("items"),
           py::arg("ks"), py::arg("metrics"))
      .def("recommend", &PyModel::Recommend, py::arg("users"), py::arg("k"),
           py::arg("exclude_seen"))
      .def("index", &PyModel::DenseIds, py::arg("raw"), py::arg("users"))
      .def("table", &PyModel::Table, py::arg("users"))
      .def("hyperparameters", [](const PyModel& p) { return p.Metadata().hyperparameters; })
      .def("raw_ids",
           [](const PyModel& p, bool users) -> py::object {
             const auto& ids = users ? p.Metadata().user_ids : p.Metadata().item_ids;
             if (ids.empty()) return py::none();
             return py::cast(ids);
           })
      .def("save", &PyModel::Save, py::arg("path"))
      .def_static("load", &PyModel::Load, py::arg("path"));
  m.def("presets", [] {
    std::map<std::string, std::string> out;
    for (const auto& [name, preset] : bridge::Presets()) out[name] = preset.description;
    return out;
  });
}

}  // namespace directspec::python
