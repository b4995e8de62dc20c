# frozen_string_literal: true

# The shared vectors (tests/vectors/*.json), also read by `cargo test`: SQL that
# real ActiveRecord sent to SQLite, PostgreSQL and MySQL (`rake vectors:generate`)
# plus hand-written tokenizer cases. One example per file, listing every mismatch.
RSpec.describe "shared SQL vectors" do
  sql = VirtualTrainerOptimizer::SQL

  Dir[File.join(VECTORS_DIR, "*.json")].sort.each do |path|
    file = File.basename(path)
    vectors = JSON.parse(File.read(path))

    it "#{file}: normalize, fingerprint and analyze agree with the Rust core (#{vectors.size} statements)" do
      mismatches = vectors.filter_map do |v|
        dialect = v["dialect"].to_sym
        got = { "normalized" => sql.normalize(v["sql"], dialect: dialect),
                "fingerprint" => sql.fingerprint(v["sql"], dialect: dialect) }
        if v.key?("shape")
          got["shape"] = begin
            sql.analyze(v["sql"], dialect: dialect)
          rescue VirtualTrainerOptimizer::Error => e
            { "error" => e.class.name }
          end
        end
        want = v.slice(*got.keys)
        "#{v['name']}:\n  want #{want}\n  got  #{got}" unless got == want
      end
      expect(mismatches).to be_empty, mismatches.first(5).join("\n")
    end

    it "#{file}: one fingerprint per group, distinct groups differ" do
      by_group = vectors.group_by { |v| v["group"] }.transform_values { |vs| vs.map { |v| v["fingerprint"] }.uniq }
      expect(by_group.select { |_, fps| fps.size > 1 }).to be_empty
      expect(by_group.values.flatten.tally.select { |_, n| n > 1 }).to be_empty
    end
  end

  it "holds at least 150 ActiveRecord statements per dialect" do
    counts = %w[sqlite postgresql mysql].to_h do |d|
      [d, JSON.parse(File.read(File.join(VECTORS_DIR, "rails_#{d}.json"))).size]
    end
    expect(counts.values).to all(be >= 150)
  end
end
