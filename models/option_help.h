#pragma once
/// The one-line help of every option the model components read (bases, activations, teachers,
/// adapters, metrics), declared in models/register.cpp next to their registrations.

#include "framework/option_help.h"

namespace lrlab::models {

/// Adds the help of the options of every registered model component and of the metrics section.
void add_model_option_help(OptionHelpTable& table);

}  // namespace lrlab::models
