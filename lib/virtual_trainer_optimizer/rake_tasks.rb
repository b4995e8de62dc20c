# frozen_string_literal: true

# The vto: rake tasks outside Rails (a Rails app gets them from the Railtie):
# `require "virtual_trainer_optimizer/rake_tasks"` in the Rakefile.
load File.expand_path("tasks/vto.rake", __dir__)
