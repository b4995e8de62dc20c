# frozen_string_literal: true

require "active_record"
require "faraday"
require "logger"
require "net/http"
require "socket"
require "stringio"
require "tmpdir"
require_relative "../../demo/lib/fake_openai"

# Outbound calls captured in units of work, against a fake OpenAI-compatible
# server on 127.0.0.1: figures, costs, findings, and that no key or prompt
# text is ever kept. This file is app code (spec/ under the app root).
RSpec.describe "external calls" do
  api_key = "sk-test-SECRETKEY0123456789"
  prompt = "PROMPT-TEXT: plan a 12-week program for runner 7731"
  answer = FakeOpenAI::ANSWER

  before(:all) do
    @server = FakeOpenAI.new.start
    @port = @server.port

    @saved = VirtualTrainerOptimizer.config.to_h.slice(:app_root, :logger, :dialect)
    VirtualTrainerOptimizer.config.app_root = Dir.pwd
    VirtualTrainerOptimizer.config.dialect = :sqlite
    VirtualTrainerOptimizer::CallSite.reset!
    ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: ":memory:")
    ActiveRecord::Base.connection.execute("CREATE TABLE programs (id INTEGER PRIMARY KEY, name TEXT)")
  end

  after(:all) do
    @server.stop
    @saved.each { |k, v| VirtualTrainerOptimizer.config.public_send(:"#{k}=", v) }
    VirtualTrainerOptimizer::CallSite.reset!
  end

  let(:log) { StringIO.new }
  let(:body) { JSON.generate(model: "gpt-4o-mini", messages: [{ role: "user", content: prompt }]) }
  let(:headers) { { "Authorization" => "Bearer #{api_key}", "Content-Type" => "application/json" } }
  let(:line) { ->(marker) { "#{__FILE__.delete_prefix("#{Dir.pwd}/")}:#{File.readlines(__FILE__).index { |l| l.include?(marker) } + 1}" } }

  around { |example| with_config(logger: Logger.new(log)) { example.run } }

  def post(path, read_timeout: 60)
    Net::HTTP.start("127.0.0.1", @port, read_timeout: read_timeout) do |http|
      http.post(path, body, headers) # net-http-line
    end
  end

  def scan(&block)
    VirtualTrainerOptimizer.scan("external", &block)
  end

  it "records a Net::HTTP call's figures: path template, status, timing, tokens and cost" do
    result = scan do
      ActiveRecord::Base.connection.select_all("SELECT * FROM programs")
      expect(post("/v1/projects/42/chat/completions?mode=ok&user=7731").body).to include(answer)
    end
    expect(result.external_calls.size).to eq(1)
    call = result.external_calls.first
    expect(call).to be_a(VirtualTrainerOptimizer::ExternalCall)
    expect(call.to_h).to include(host: "127.0.0.1", method: "POST", path: "/v1/projects/:id/chat/completions",
                                 status: 200, model: "gpt-4o-mini-2024-07-18", prompt_tokens: 850,
                                 completion_tokens: 400, total_tokens: 1250, error: nil, timeout_s: 60.0, retries: 0,
                                 location: line.call("# net-http-line"), scope_kind: :scan, scope_name: "external")
    # gpt-4o-mini: 850 × 0.15 / 10⁶ + 400 × 0.60 / 10⁶
    expect(call.cost_usd).to eq(0.0003675)
    expect(call.duration_ms).to be > 0
    expect(call.request_bytes).to eq(body.bytesize)
    expect(call.response_bytes).to be > 100
    expect(call.prompt_fingerprint).to match(/\A\h{16}\z/)
    expect(@server.authorizations.last).to eq("Bearer #{api_key}") # the header still went out
    expect(result.queries).to eq(1)
  end

  it "times a delayed answer, records the class of a timeout and re-raises it" do
    result = scan do
      post("/v1/chat/completions?delay=0.3")
      expect { post("/v1/chat/completions?delay=0.5", read_timeout: 0.1) }.to raise_error(Net::ReadTimeout)
    end
    slow, timed_out = result.external_calls
    expect(slow.duration_ms).to be >= 300
    expect(timed_out.to_h).to include(status: nil, error: "Net::ReadTimeout", timeout_s: 0.1, cost_usd: nil)
  end

  it "finds three identical prompts in a loop: a duplicate and an in-loop finding" do
    result = scan { 3.times { post("/v1/chat/completions") } }
    expect(result.external_calls.map(&:prompt_fingerprint).uniq.size).to eq(1)
    duplicate = result.findings_of(:duplicate_external_call)
    expect(duplicate.size).to eq(1)
    expect(duplicate.first.count).to eq(3)
    expect(duplicate.first.external).to include(host: "127.0.0.1", path: "/v1/chat/completions",
                                                prompt_fingerprint: result.external_calls.first.prompt_fingerprint)
    expect(duplicate.first.suggestion).to include("Rails.cache.fetch")
    in_loop = result.findings_of(:external_call_in_loop)
    expect(in_loop.size).to eq(1)
    expect(in_loop.first.location).to eq(line.call("# net-http-line"))
    expect(in_loop.first.message).to include("external call in loop: POST 127.0.0.1/v1/chat/completions")
  end

  it "reports a host answering 429 and 500 as an error rate" do
    result = scan do
      post("/v1/chat/completions?mode=429")
      post("/v1/chat/completions?mode=500")
      post("/v1/chat/completions")
    end
    expect(result.external_calls.map(&:status)).to eq([429, 500, 200])
    errors = result.findings_of(:external_errors)
    expect(errors.size).to eq(1)
    expect(errors.first.external[:hit_rate]).to be_within(0.001).of(2.0 / 3)
    expect(errors.first.priority).to eq(:high)
  end

  it "captures Faraday's default adapter in a job; the enclosing scan sees the job's calls and findings" do
    conn = Faraday.new(url: "http://127.0.0.1:#{@port}")
    job = nil
    result = scan do
      _, job = VirtualTrainerOptimizer::Scope.run(:job, "CustomHealthProgramJob") do
        3.times { conn.post("/v1/chat/completions", body, headers) } # faraday-line
      end
    end
    expect(job.external_calls.size).to eq(3)
    expect(job.external_calls.map { |c| [c.scope_name, c.path, c.status, c.total_tokens, c.cost_usd] }.uniq)
      .to eq([["CustomHealthProgramJob", "/v1/chat/completions", 200, 1250, 0.0003675]])
    expect(job.external_calls.first.location).to eq(line.call("# faraday-line"))
    expect(job.findings_of(:external_call_in_loop).map(&:scope_name)).to eq(["CustomHealthProgramJob"])
    expect(result.external_calls).to eq(job.external_calls)
    expect(result.findings_of(:duplicate_external_call).size).to eq(1) # adopted, not analysed twice
  end

  it "records request.openai notifications, once when the client itself goes through Net::HTTP" do
    result = scan do
      ActiveSupport::Notifications.instrument("request.openai", host: "api.openai.com", path: "/v1/responses",
                                                                method: "post", status: 200, duration_ms: 1800.0,
                                                                model: "gpt-4o", prompt_fingerprint: "ab12cd34ef56ab78",
                                                                usage: { input_tokens: 1000, output_tokens: 100 })
      ActiveSupport::Notifications.instrument("request.openai", host: "127.0.0.1", path: "/v1/chat/completions",
                                                                model: "gpt-4o-mini", status: 200,
                                                                usage: { "prompt_tokens" => 850, "completion_tokens" => 400 }) do
        post("/v1/chat/completions")
      end
    end
    own, wrapped = result.external_calls
    expect(result.external_calls.size).to eq(2)
    # gpt-4o: 1000 × 2.50 / 10⁶ + 100 × 10.00 / 10⁶
    expect(own.to_h).to include(host: "api.openai.com", method: "POST", path: "/v1/responses", duration_ms: 1800.0,
                                prompt_tokens: 1000, completion_tokens: 100, cost_usd: 0.0035,
                                prompt_fingerprint: "ab12cd34ef56ab78")
    expect(wrapped.to_h).to include(host: "127.0.0.1", model: "gpt-4o-mini", cost_usd: 0.0003675)
    expect(wrapped.duration_ms).to be > 0
  end

  it "keeps no key, prompt or answer text: not in results, the JSON-lines file or the log" do
    Dir.mktmpdir do |dir|
      path = File.join(dir, "vto.jsonl")
      result = with_config(jsonl_path: path) do
        scan { 3.times { post("/v1/chat/completions?mode=429") } }
      end
      VirtualTrainerOptimizer::JsonlSink.flush
      texts = { to_h: result.to_h.to_s, inspect: result.external_calls.inspect + result.findings.inspect,
                jsonl: File.read(path), log: log.string }
      expect(texts[:jsonl]).to include("external_errors")
      expect(texts[:log]).to include("duplicate external call")
      texts.each do |where, text|
        ["sk-test", "SECRETKEY", "PROMPT-TEXT", "ANSWER-TEXT", "ERROR-BODY-TEXT", "Bearer"].each do |secret|
          expect(text).not_to include(secret), "#{secret} in #{where}"
        end
      end
    end
  end

  it "counts the attempts Net::HTTP makes itself: an idempotent GET retried after a dropped connection" do
    server = TCPServer.new("127.0.0.1", 0)
    accepted = Thread.new do
      2.times.map do |n|
        client = server.accept
        nil until client.gets.to_s.chomp.empty? # the request's head
        if n.zero?
          client.close # dropped before answering: Net::HTTP retries once
        else
          json = JSON.generate(data: [])
          client.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: #{json.bytesize}\r\n" \
                       "Connection: close\r\n\r\n#{json}")
          client.close
        end
        n
      end
    end
    result = scan do
      Net::HTTP.start("127.0.0.1", server.addr[1]) { |http| expect(http.get("/v1/models").code).to eq("200") }
    end
    expect(accepted.value).to eq([0, 1])
    expect(result.external_calls.map { |c| [c.path, c.status, c.retries] }).to eq([["/v1/models", 200, 1]])
  ensure
    server&.close
  end

  it "reads the usage of a streamed answer, read in chunks or whole, and hands the chunks over unchanged" do
    streamed = lambda do |include_usage|
      JSON.generate(model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: prompt }],
                    stream_options: { include_usage: include_usage })
    end
    chunks = []
    result = scan do
      Net::HTTP.start("127.0.0.1", @port) do |http|
        request = Net::HTTP::Post.new("/v1/chat/completions", headers)
        request.body = streamed.call(true)
        http.request(request) { |response| response.read_body { |chunk| chunks << chunk } }
        http.post("/v1/chat/completions", streamed.call(true), headers)
        http.post("/v1/chat/completions", streamed.call(false), headers)
      end
    end
    text = chunks.join
    expect(text).to include("data: [DONE]")
    expect(text.scan(/"content":"([^"]*)"/).join).to eq(answer)
    in_chunks, whole, without_usage = result.external_calls
    [in_chunks, whole].each do |call|
      expect(call.to_h).to include(model: "gpt-4o-mini-2024-07-18", prompt_tokens: 850, completion_tokens: 400,
                                   total_tokens: 1250, cost_usd: 0.0003675, status: 200)
    end
    expect(in_chunks.response_bytes).to eq(text.bytesize)
    expect(whole.response_bytes).to eq(text.bytesize)
    expect(without_usage.to_h).to include(prompt_tokens: nil, completion_tokens: nil, cost_usd: nil)
    expect(without_usage.prompt_fingerprint).to eq(in_chunks.prompt_fingerprint) # `stream` is not hashed
  end

  it "records nothing outside a unit of work" do
    expect(VirtualTrainerOptimizer::External::NetHttp).not_to receive(:record)
    VirtualTrainerOptimizer.install!
    expect(post("/v1/chat/completions").code).to eq("200")
  end

  it "records an unstarted connection's request once" do
    result = scan do
      request = Net::HTTP::Post.new("/v1/chat/completions", headers)
      request.body = body
      expect(Net::HTTP.new("127.0.0.1", @port).request(request).code).to eq("200")
    end
    expect(result.external_calls.size).to eq(1)
  end

  it "never breaks the call when capture fails (fail-open)" do
    allow(VirtualTrainerOptimizer::External).to receive(:path_template).and_raise(RuntimeError, "capture bug")
    errors = VirtualTrainerOptimizer.internal_errors
    result = scan { expect(post("/v1/chat/completions").body).to include(answer) }
    expect(result.external_calls).to be_empty
    expect(VirtualTrainerOptimizer.internal_errors).to eq(errors + 1)
  end

  it "folds ids out of path templates and drops the query string" do
    fold = VirtualTrainerOptimizer::External.method(:path_template)
    expect(fold.call("/v1/users/123/files/550e8400-e29b-41d4-a716-446655440000?key=abc")).to eq("/v1/users/:id/files/:id")
    expect(fold.call("/v1/threads/thread_abc123DEF456ghi789/runs")).to eq("/v1/threads/:id/runs")
    expect(fold.call("/repos/a/b/commits/9fceb02d0ae598e95dc970b74767f19372d61af8")).to eq("/repos/a/b/commits/:id")
    expect(fold.call("/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/sendMessage")).to eq("/:id/sendMessage")
    expect(fold.call("/v1/users/me@example.com")).to eq("/v1/users/:id")
    expect(fold.call("/v1/chat/completions")).to eq("/v1/chat/completions")
    expect(fold.call("/v1/embeddings")).to eq("/v1/embeddings")
  end

  it "validates capture_external_calls" do
    expect { VirtualTrainerOptimizer.config.capture_external_calls = "yes" }.to raise_error(ArgumentError)
    expect(VirtualTrainerOptimizer.config.capture_external_calls).to be(true)
  end
end
