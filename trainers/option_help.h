#pragma once
/// The one-line help of every option the trainer components read (the descent loop, data sources,
/// update rules, schedules), declared in trainers/register.cpp next to their registrations.

#include "framework/option_help.h"

namespace lrlab::trainers {

/// Adds the help of the options of every registered trainer, data source, update rule and schedule.
void add_trainer_option_help(OptionHelpTable& table);

}  // namespace lrlab::trainers
