# frozen_string_literal: true

require "json"
require "webrick"

# A local OpenAI-compatible endpoint on 127.0.0.1 (WEBrick, a free port): the
# demo's AI jobs call it over real HTTP instead of api.openai.com, and the
# specs use it to answer with usage blocks, delays, 429s and 500s.
#
#   server = FakeOpenAI.new(latency: 0.2).start
#   server.base_url # => "http://127.0.0.1:40123/v1"
#   server.stop
#
# POST /v1/chat/completions, /v1/responses and /v1/embeddings (any path under
# /v1) answer 200 with the request's model and `usage`; the query string
# steers one call: `mode=429` or `mode=500` answers that error, `delay=S`
# waits S seconds first. A body with `"stream": true` is answered as
# server-sent events, ending with a usage chunk when
# `stream_options.include_usage` is set (as OpenAI does).
class FakeOpenAI
  ANSWER = "ANSWER-TEXT: week one, easy runs"

  attr_reader :port

  # `latency`: seconds every answer waits, or per model ({"gpt-4o" => 5.5},
  # 0 for a model not named); `usage`: the token counts answered.
  def initialize(latency: 0.0, usage: { prompt_tokens: 850, completion_tokens: 400 })
    @latency = latency
    @usage = usage.merge(total_tokens: usage.fetch(:prompt_tokens) + usage.fetch(:completion_tokens))
    @authorizations = []
    @lock = Mutex.new
  end

  def start
    @server = WEBrick::HTTPServer.new(BindAddress: "127.0.0.1", Port: 0, Logger: WEBrick::Log.new(File::NULL),
                                      AccessLog: [])
    @server.mount_proc("/v1") { |req, res| answer(req, res) }
    @thread = Thread.new { @server.start }
    @port = @server.config[:Port]
    self
  end

  # The Authorization headers received, in order (the key did go out).
  def authorizations
    @lock.synchronize { @authorizations.dup }
  end

  def requests
    authorizations.size
  end

  def base_url
    "http://127.0.0.1:#{port}/v1"
  end

  def stop
    @server&.shutdown
    @thread&.join
  end

  private

  def answer(req, res)
    @lock.synchronize { @authorizations << req["Authorization"] }
    query = WEBrick::HTTPUtils.parse_query(req.query_string.to_s) # req.query of a POST is its form body
    body = JSON.parse(req.body.to_s)
    sleep(query["delay"] ? Float(query["delay"]) : latency_of(body["model"]))
    status = { "429" => 429, "500" => 500 }.fetch(query["mode"], 200)
    res.status = status
    return error(res) unless status == 200

    model = "#{body['model'] || 'gpt-4o-mini'}-2024-07-18"
    body["stream"] ? stream(res, model, body) : complete(res, model, req.path)
  rescue JSON::ParserError
    res.status = 400
    error(res)
  end

  def latency_of(model)
    @latency.is_a?(Hash) ? @latency.fetch(model, 0.0) : @latency
  end

  def complete(res, model, path)
    res["Content-Type"] = "application/json"
    usage = path.end_with?("/embeddings") ? @usage.merge(completion_tokens: 0, total_tokens: @usage[:prompt_tokens]) : @usage
    res.body = JSON.generate(id: "chatcmpl-1", object: "chat.completion", model: model,
                             choices: [{ index: 0, message: { role: "assistant", content: ANSWER } }],
                             usage: usage)
  end

  def stream(res, model, body)
    res["Content-Type"] = "text/event-stream"
    chunks = ANSWER.scan(/.{1,8}/m).map do |piece|
      { id: "chatcmpl-1", object: "chat.completion.chunk", model: model,
        choices: [{ index: 0, delta: { content: piece } }] }
    end
    chunks << { id: "chatcmpl-1", object: "chat.completion.chunk", model: model, choices: [], usage: @usage } if
      body.dig("stream_options", "include_usage")
    res.body = chunks.map { |c| "data: #{JSON.generate(c)}\n\n" }.join << "data: [DONE]\n\n"
  end

  def error(res)
    res["Content-Type"] = "application/json"
    res.body = JSON.generate(error: { message: "ERROR-BODY-TEXT" })
  end
end
