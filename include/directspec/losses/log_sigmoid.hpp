// Numerically stable log σ(x) and σ(x) for the losses (docs/method.md#log-sigmoid-helpers). The
// naive log(1 / (1 + exp(−x))) overflows for x << 0 and loses all digits for x >> 0; these forms
// stay finite and accurate for every finite x in float and double.
#pragma once

#include <cmath>

namespace directspec {

/// log σ(x) = −log(1 + e^(−x)) = min(x, 0) − log1p(e^(−|x|)).
template <class S>
S LogSigmoid(S x) {
  return std::fmin(x, S(0)) - std::log1p(std::exp(-std::fabs(x)));
}

/// σ(x) = 1 / (1 + e^(−x)), evaluated without overflow on either side.
template <class S>
S Sigmoid(S x) {
  if (x >= S(0)) return S(1) / (S(1) + std::exp(-x));
  const S e = std::exp(x);
  return e / (S(1) + e);
}

}  // namespace directspec
