#pragma once
/// The registry of activation types (`type:` word -> factory), filled explicitly by
/// `register_activations` (models/activations/register_activations.cpp).

#include "framework/registry.h"
#include "models/activation.h"

namespace lrlab::models {

/// Registry of activations built from their config section.
using ActivationRegistry = Registry<Activation>;

/// The activation registry (a function-local static, filled on first use).
ActivationRegistry& activation_registry();

/// Adds every activation type to `registry`, one line each (key, factory, one-line help).
void register_activations(ActivationRegistry& registry);

}  // namespace lrlab::models
