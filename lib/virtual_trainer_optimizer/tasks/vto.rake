# frozen_string_literal: true

# Loaded by the Railtie, or by `require "virtual_trainer_optimizer/rake_tasks"`.
namespace :vto do
  desc "Run the test suite and write the strict-mode baseline (.vto_baseline.yml) from the findings it makes; " \
       "VTO_BASELINE_COMMAND overrides the command (default: bundle exec rspec, or rspec without a Gemfile)"
  task :baseline do
    command = ENV["VTO_BASELINE_COMMAND"] || (File.exist?("Gemfile") ? "bundle exec rspec" : "rspec")
    puts "vto:baseline: #{command} (VTO_BASELINE=write)"
    next if system({ "VTO_BASELINE" => "write" }, command)

    abort "vto:baseline: `#{command}` failed (#{$?.exitstatus ? "exit #{$?.exitstatus}" : $?.inspect}); " \
          "any baseline it wrote holds the findings of the examples that ran"
  end
end
