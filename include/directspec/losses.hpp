// Umbrella header for the loss policies, the last stage of a step: LogLoss (the paper's
// positive-only objective), BprLoss, DirectAuLoss, SampledSoftmaxLoss and the WithOutputL2
// penalty combinator. See docs/losses.md.
#pragma once

#include "directspec/losses/bpr_loss.hpp"
#include "directspec/losses/directau_loss.hpp"
#include "directspec/losses/log_loss.hpp"
#include "directspec/losses/log_sigmoid.hpp"
#include "directspec/losses/output_l2.hpp"
#include "directspec/losses/sampled_softmax_loss.hpp"
