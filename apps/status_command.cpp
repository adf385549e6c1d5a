#include "apps/status_command.h"

#include <CLI/CLI.hpp>

#include <ctime>
#include <iostream>
#include <memory>
#include <string>

#include "study/live_status.h"

namespace lrlab {

std::function<int()> add_status_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("status", "show the progress of a study (running here or elsewhere, or sharded)");
  sub->add_option("dir", *dir, "results folder")->required()->check(CLI::ExistingDirectory);
  return [sub, dir]() {
    if (!sub->parsed()) return 0;
    std::string folder = *dir;
    while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
    std::cout << study::status_report(folder, static_cast<double>(std::time(nullptr)));
    return 0;
  };
}

}  // namespace lrlab
