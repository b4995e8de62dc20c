# frozen_string_literal: true

require "tmpdir"
require "fileutils"

RSpec.describe VirtualTrainerOptimizer::NativeLoader do
  dlext = RbConfig::CONFIG["DLEXT"]

  it "prefers a Ruby-version directory, then the plain file, then the load path" do
    Dir.mktmpdir do |dir|
      expect(described_class.candidates("3.1.2", dir)).to eq(["virtual_trainer_optimizer/virtual_trainer_optimizer"])
      FileUtils.touch(File.join(dir, "virtual_trainer_optimizer.#{dlext}"))
      FileUtils.mkdir_p(File.join(dir, "3.1"))
      FileUtils.touch(File.join(dir, "3.1", "virtual_trainer_optimizer.#{dlext}"))
      expect(described_class.candidates("3.1.2", dir)).to eq(
        [File.join(dir, "3.1", "virtual_trainer_optimizer"), File.join(dir, "virtual_trainer_optimizer"),
         "virtual_trainer_optimizer/virtual_trainer_optimizer"]
      )
      expect(described_class.candidates("3.2.0", dir).first).to eq(File.join(dir, "virtual_trainer_optimizer"))
    end
  end

  it "has loaded the extension" do
    expect(VirtualTrainerOptimizer::SQL.method(:fingerprint).source_location).to be_nil # defined natively
  end
end
