# frozen_string_literal: true

RSpec.describe VirtualTrainerOptimizer::SQL, :native do
  vectors = load_vectors("normalize.json")

  describe ".normalize and .fingerprint on the tokenizer vectors" do
    vectors.each do |v|
      it "#{v['dialect']}: #{v['name']}" do
        expect(described_class.normalize(v["sql"], dialect: v["dialect"].to_sym)).to eq(v["normalized"])
        expect(described_class.fingerprint(v["sql"], dialect: v["dialect"].to_sym)).to eq(v["fingerprint"])
      end
    end

    it "gives every group one fingerprint" do
      groups = vectors.group_by { |v| v["group"] }.transform_values do |vs|
        vs.map { |v| described_class.fingerprint(v["sql"], dialect: v["dialect"]) }.uniq
      end
      expect(groups.values).to all(have_attributes(size: 1))
      expect(groups.values.flatten.uniq.size).to eq(groups.size)
    end
  end

  it "defaults to PostgreSQL" do
    expect(described_class.normalize("SELECT data ? 'k'")).to eq("SELECT data ? ?")
    expect(described_class.normalize("SELECT `a` FROM t WHERE b = \"x\"")).to eq("SELECT `a` FROM t WHERE b = \"x\"")
  end

  it "accepts dialects and Rails adapter names as symbols or strings" do
    sql = "SELECT * FROM t WHERE a = \"x\""
    mysql = "SELECT * FROM t WHERE a = ?"
    expect(%i[mysql mysql2 trilogy].map { |d| described_class.normalize(sql, dialect: d) }).to all(eq(mysql))
    expect(described_class.normalize(sql, dialect: "MySQL2")).to eq(mysql)
    pg = "SELECT * FROM t WHERE a = \"x\""
    expect(%i[postgresql postgis sqlite sqlite3].map { |d| described_class.normalize(sql, dialect: d) }).to all(eq(pg))
  end

  it "returns a 16-hex-digit fingerprint that differs by shape" do
    a = described_class.fingerprint("SELECT * FROM users WHERE id = 1")
    b = described_class.fingerprint("SELECT * FROM users WHERE email = 'x'")
    expect([a, b]).to all(match(/\A\h{16}\z/))
    expect(a).not_to eq(b)
  end

  it "is stable across processes" do
    sql = "SELECT \"users\".* FROM \"users\" WHERE \"users\".\"id\" = $1 LIMIT $2"
    lib = File.expand_path("../../lib", __dir__)
    other = IO.popen([RbConfig.ruby, "-I", lib, "-rvirtual_trainer_optimizer", "-e",
                      "print VirtualTrainerOptimizer::SQL.fingerprint(ARGV[0])", sql], &:read)
    expect(other).to eq(described_class.fingerprint(sql))
  end

  describe ".max_input_bytes" do
    around do |example|
      example.run
    ensure
      described_class.max_input_bytes = described_class::DEFAULT_MAX_INPUT_BYTES
    end

    it "defaults to 1 MiB and caps what the hot path reads" do
      expect(described_class.max_input_bytes).to eq(1_048_576)
      described_class.max_input_bytes = 12
      expect(described_class.normalize("SELECT 1 FROM users WHERE x = 2")).to eq("SELECT ? FRO")
    end

    it "rejects anything but a positive Integer" do
      [0, -1, 1.5, "10", nil].each do |bad|
        expect { described_class.max_input_bytes = bad }
          .to raise_error(ArgumentError, /positive Integer/)
      end
      expect(described_class.max_input_bytes).to eq(1_048_576)
    end
  end
end
