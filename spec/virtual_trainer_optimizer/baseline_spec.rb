# frozen_string_literal: true

require "tmpdir"
require "virtual_trainer_optimizer/baseline"

RSpec.describe VirtualTrainerOptimizer::Baseline do
  around { |example| Dir.mktmpdir("vto-baseline") { |dir| @dir = dir; example.run } }

  let(:path) { File.join(@dir, ".vto_baseline.yml") }

  def entry(**attrs)
    defaults = { kind: "n_plus_one", fingerprint: "65480462680d0787", path: "app/a.rb", method_label: "A#index",
                 line: 8, sql: "SELECT ? FROM t", examples: 2 }
    described_class::Entry.new(**defaults.merge(attrs))
  end

  it "round-trips its entries, sorted by file and method, keyed without the line" do
    described_class.write(path, [entry(path: "app/z.rb"), entry(line: 99)])
    loaded = described_class.load(path)
    expect(loaded.entries.map(&:path)).to eq(%w[app/a.rb app/z.rb])
    expect(loaded.entries.first.to_h).to eq(entry(line: 99).to_h)
    expect(loaded.include_key?(entry(line: 1).key)).to be(true)
    expect(loaded.include_key?(entry(method_label: "A#show").key)).to be(false)
    expect(File.read(path)).to start_with(described_class::HEADER)
    expect(Dir.children(@dir)).to eq([".vto_baseline.yml"])
  end

  it "is empty when the file is missing or empty" do
    expect(described_class.load(path).entries).to eq([])
    File.write(path, "")
    expect(described_class.load(path).entries).to eq([])
  end

  it "names the file and the problem for anything else" do
    { "findings: [1, 2\n" => /is not valid YAML/,
      "- a\n" => /is not a virtual_trainer_optimizer baseline: expected a `findings:` list/,
      "version: 2\nfindings: []\n" => /baseline version 2 is not supported \(expected 1\)/,
      "findings:\n- sql: x\n" => /entry 1 is not a finding/,
      "findings: !ruby/object:Object {}\n" => /is not valid YAML/ }.each do |text, message|
      File.write(path, text)
      expect { described_class.load(path) }.to raise_error(VirtualTrainerOptimizer::Error, message)
    end
  end
end
