# frozen_string_literal: true

RSpec.describe VirtualTrainerOptimizer::CallSite do
  # A backtrace cleaner that silences one directory, like an app's own
  # Rails.backtrace_cleaner.add_silencer.
  cleaner = Class.new do
    def clean(lines)
      lines.reject { |line| line.include?("/app/lib/generated/") }
    end
  end

  around do |example|
    config = VirtualTrainerOptimizer::Configuration.new
    config.app_root = "/srv/app"
    config.backtrace_cleaner = cleaner.new
    described_class.reset!(config)
    example.run
  ensure
    described_class.reset!
  end

  it "takes the app's own files for app code" do
    expect(described_class.classify("/srv/app/app/models/user.rb")).to eq(described_class::APP)
    expect(described_class.classify("/srv/app/lib/tasks/import.rb")).to eq(described_class::APP)
  end

  it "leaves out what lies outside the app root, gems, vendor/bundle and this gem" do
    expect(described_class.classify("/elsewhere/app/models/user.rb")).to eq(described_class::LIBRARY)
    expect(described_class.classify("/srv/app/vendor/bundle/ruby/3.1.0/gems/x/lib/x.rb")).to eq(described_class::LIBRARY)
    expect(described_class.classify("#{Gem.path.first}/gems/rack-2.2/lib/rack.rb")).to eq(described_class::LIBRARY)
    expect(described_class.classify("#{described_class::GEM_DIR}/virtual_trainer_optimizer/scope.rb"))
      .to eq(described_class::LIBRARY)
    expect(described_class.classify("<internal:kernel>")).to eq(described_class::LIBRARY)
  end

  it "honours the backtrace cleaner's silencers, but keeps spec/ and test/ as app code" do
    expect(described_class.classify("/srv/app/app/lib/generated/client.rb")).to eq(described_class::LIBRARY)
    expect(described_class.classify("/srv/app/spec/models/user_spec.rb")).to eq(described_class::APP)
    expect(described_class.classify("/srv/app/test/models/user_test.rb")).to eq(described_class::APP)
  end

  it "marks ActiveRecord's batch, preload and association code" do
    batches = "/gems/activerecord-7.1.0/lib/active_record/relation/batches.rb"
    expect(described_class.classify(batches, "in_batches")).to eq(described_class::BATCH)
    expect(described_class.classify(batches, "find_in_batches")).to eq(described_class::BATCH)
    expect(described_class.classify(batches, "find_each")).to eq(described_class::BATCH_EACH)
    expect(described_class.classify("/gems/activerecord-6.1.7/lib/active_record/associations/preloader/association.rb"))
      .to eq(described_class::BATCH)
    expect(described_class.classify("/gems/activerecord-6.1.7/lib/active_record/associations/has_many_association.rb"))
      .to eq(described_class::ASSOCIATION)
  end

  it "shows app paths relative to the app root" do
    expect(described_class.relative("/srv/app/app/models/user.rb")).to eq("app/models/user.rb")
    expect(described_class.relative("/elsewhere/x.rb")).to eq("/elsewhere/x.rb")
  end
end
