# frozen_string_literal: true

RSpec.describe "the native boundary", :native do
  sql = VirtualTrainerOptimizer::SQL
  # Built once at load time, outside GC.stress, which would make building them take minutes.
  nested = "SELECT #{'(' * 10_000}1#{')' * 10_000}"
  nested_normalized = "SELECT #{'(' * 10_000}?#{')' * 10_000}"
  in_list = "SELECT * FROM t WHERE id IN (#{Array.new(150_000) { |i| i }.join(', ')})"

  it "defines every error class in Ruby under one base class" do
    base = VirtualTrainerOptimizer::Error
    expect(base.superclass).to eq(StandardError)
    %i[ParseError InputTooLarge InternalError].each do |name|
      expect(VirtualTrainerOptimizer.const_get(name).superclass).to eq(base)
    end
  end

  it "turns a Rust panic into InternalError and keeps the process usable" do
    expect { VirtualTrainerOptimizer::Native.panic_for_diagnostics("deliberate") }
      .to raise_error(VirtualTrainerOptimizer::InternalError, /native code: deliberate/)
    expect(sql.fingerprint("SELECT 1")).to match(/\A\h{16}\z/)
  end

  it "raises ArgumentError for an unknown dialect and TypeError for a wrong type" do
    expect { sql.normalize("SELECT 1", dialect: :oracle) }
      .to raise_error(ArgumentError, /unknown SQL dialect "oracle"/)
    expect { sql.normalize("SELECT 1", dialect: 3) }.to raise_error(TypeError, /Symbol or String, got Integer/)
    expect { sql.normalize(nil) }.to raise_error(TypeError)
    expect { sql.fingerprint(42) }.to raise_error(TypeError)
  end

  it "checks its arguments like a Ruby method with a dialect: keyword" do
    expect { sql.fingerprint }.to raise_error(ArgumentError, /given 0, expected 1/)
    expect { sql.fingerprint("a", "b", "c") }.to raise_error(ArgumentError, /given 3, expected 1/)
    expect { sql.fingerprint("SELECT 1", :mysql) }.to raise_error(ArgumentError, /dialect is a keyword/)
    expect { sql.normalize("SELECT 1", dialect: :mysql, colour: :red) }
      .to raise_error(ArgumentError, /unknown keyword: :colour/)
    expect(sql.normalize("SELECT `a`", dialect: "mysql2")).to eq("SELECT `a`")
  end

  it "accepts invalid UTF-8, binary strings and NUL bytes" do
    binary = "SELECT \xff\xfe FROM t WHERE a = '\x80\x00'".b
    out = sql.normalize(binary)
    expect(out).to eq("SELECT \uFFFD\uFFFD FROM t WHERE a = ?")
    expect(out.encoding).to eq(Encoding::UTF_8)
    expect(sql.fingerprint(binary)).to match(/\A\h{16}\z/)
    expect(sql.normalize("SELECT \0 FROM \0")).to eq("SELECT \0 FROM \0")
  end

  it "handles 10,000 nested parentheses and a 1 MiB IN list" do
    expect(sql.normalize(nested)).to eq(nested_normalized)
    expect(in_list.bytesize).to be > 1_048_576
    sql.max_input_bytes = 2 * 1_048_576
    expect(sql.normalize(in_list)).to eq("SELECT * FROM t WHERE id IN (?)")
  ensure
    sql.max_input_bytes = sql::DEFAULT_MAX_INPUT_BYTES
  end

  it "leaves the caller's string untouched" do
    input = +"select 1 -- note"
    copy = input.dup
    sql.normalize(input)
    expect(input).to eq(copy)
    expect(sql.normalize("select 1".freeze)).to eq("SELECT ?")
  end

  it "is safe to call from many threads at once" do
    queries = Array.new(8) { |i| "SELECT * FROM t#{i} WHERE id = #{i}" }
    expected = queries.map { |q| sql.fingerprint(q) }
    results = queries.map { |q| Thread.new { Array.new(50) { sql.fingerprint(q) }.uniq } }.map(&:value)
    expect(results).to eq(expected.map { |fp| [fp] })
  end
end

RSpec.describe "the native boundary after GC compaction" do
  # Moves every movable object, as GC.compact (and Process.warmup) may.
  def compact_everything
    GC.verify_compaction_references(expand_heap: true, toward: :empty)
  rescue ArgumentError # Ruby < 3.2 names the option double_heap
    GC.verify_compaction_references(double_heap: true, toward: :empty)
  end

  it "still raises the gem's own exception classes" do
    compact_everything
    expect { VirtualTrainerOptimizer::SQL.analyze("SELEC x y z") }.to raise_error(VirtualTrainerOptimizer::ParseError)
    expect { VirtualTrainerOptimizer::SQL.analyze("SELECT #{'(' * 100}1#{')' * 100}") }
      .to raise_error(VirtualTrainerOptimizer::InputTooLarge)
    expect { VirtualTrainerOptimizer::Native.panic_for_diagnostics("after compaction") }
      .to raise_error(VirtualTrainerOptimizer::InternalError)
    expect(VirtualTrainerOptimizer::SQL.fingerprint("SELECT 1", dialect: :mysql2)).to match(/\A\h{16}\z/)
  end
end
