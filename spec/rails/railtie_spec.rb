# frozen_string_literal: true

require_relative "rails_helper"
require "rails/generators"
require "tmpdir"

RSpec.describe "Rails wiring (#{VirtualTrainer::DB})" do
  it "exposes the configuration as config.virtual_trainer_optimizer, with the test-env defaults" do
    config = Rails.application.config.virtual_trainer_optimizer
    expect(config).to be(VirtualTrainerOptimizer.config)
    expect(config.enabled).to be(true)
    expect(config.sample_rate).to eq(1.0)
    expect(config.app_root).to eq(Rails.root.to_s)
    expect(config.backtrace_cleaner).to be(Rails.backtrace_cleaner)
    expect(config.jsonl_path).to eq(ENV.fetch("VTO_JSONL", File.join(VirtualTrainer::TMP, "findings.jsonl")))
  end

  it "puts the Rack middleware first and subscribes to sql.active_record exactly once" do
    expect(Rails.application.middleware.first.klass).to eq(VirtualTrainerOptimizer::Integrations::Rack)
    subscribers = ActiveSupport::Notifications.notifier.listeners_for("sql.active_record")
    ours = subscribers.count do |s|
      s.instance_variable_get(:@delegate).is_a?(VirtualTrainerOptimizer::Native::Subscriber)
    end
    expect(ours).to eq(1)
    VirtualTrainerOptimizer.install!
    VirtualTrainerOptimizer.scan { User.first }
    expect(ActiveSupport::Notifications.notifier.listeners_for("sql.active_record").size).to eq(subscribers.size)
  end

  it "detects the dialect from the adapter" do
    expect(VirtualTrainerOptimizer.dialect).to eq(VirtualTrainer::DB == "sqlite" ? :sqlite : :postgresql)
  end

  it "generates an initializer that lists every option with its default and loads cleanly" do
    Dir.mktmpdir do |dir|
      Rails::Generators.invoke("virtual_trainer_optimizer:install", ["--quiet"], destination_root: dir)
      path = File.join(dir, "config/initializers/virtual_trainer_optimizer.rb")
      text = File.read(path)
      VirtualTrainerOptimizer::Configuration::OPTIONS.each do |option|
        expect(text).to include("# c.#{option.name} = #{option.default.inspect}")
        expect(text).to include("# #{option.doc}")
      end
      before = VirtualTrainerOptimizer.config.to_h
      load path
      expect(VirtualTrainerOptimizer.config.to_h).to eq(before)
    end
  end

  it "rejects bad options with a clear error and keeps the old value" do
    config = VirtualTrainerOptimizer.config
    expect { config.n_plus_one_threshold = 1 }.to raise_error(ArgumentError, /n_plus_one_threshold must be an Integer >= 2/)
    expect { config.slow_query_ms = -5 }.to raise_error(ArgumentError, /slow_query_ms must be a positive number/)
    expect { config.sample_rate = 2 }.to raise_error(ArgumentError, /between 0.0 and 1.0/)
    expect { config.raise_on = [:n_plus_two] }.to raise_error(ArgumentError, /unknown kinds \[:n_plus_two\]/)
    expect { config.on_finding = "nope" }.to raise_error(ArgumentError, /respond to #call/)
    expect { config.dialect = :oracle }.to raise_error(ArgumentError, /oracle/)
    expect { config.allow }.to raise_error(ArgumentError, /at least one of/)
    expect(config.n_plus_one_threshold).to eq(2)
    expect(config.slow_query_ms).to eq(100)
  end
end
