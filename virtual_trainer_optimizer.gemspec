# frozen_string_literal: true

require_relative "lib/virtual_trainer_optimizer/version"

Gem::Specification.new do |spec|
  spec.name = "virtual_trainer_optimizer"
  spec.version = VirtualTrainerOptimizer::VERSION
  spec.authors = ["Virtual Trainer engineering"]
  spec.summary = "N+1, slow SQL, index and data-retention advisor for Rails, with a Rust core"
  spec.description = <<~DESC.tr("\n", " ").strip
    Finds N+1 queries, slow and duplicate SQL, missing and redundant indexes, and data
    retention / privacy gaps in Rails applications, inside the Rails process, in test
    suites and in CI, at an overhead small enough to leave on.
  DESC
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.1"

  spec.files = Dir[
    "lib/**/*.{rb,rake,yml}", "ext/**/*.{rb,rs,toml}", "crates/**/*.{rs,toml,md}", "docs/**/*.json",
    "Cargo.toml", "Cargo.lock", "README.md", "CHANGELOG.md", "LICENSE"
  ].reject { |path| path.include?("/target/") }
  spec.require_paths = ["lib"]
  spec.extensions = ["ext/virtual_trainer_optimizer/extconf.rb"]
  spec.metadata["rubygems_mfa_required"] = "true"
end
