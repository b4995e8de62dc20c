# frozen_string_literal: true

require "json"
require "net/http"

# Virtual Trainer's OpenAI client: one Chat Completions call over Net::HTTP
# to OPENAI_BASE_URL (bin/demo points it at a local stand-in). Returns the
# answer's text and its usage block.
module OpenaiChat
  Answer = Struct.new(:content, :usage)

  module_function

  # `timeout`: seconds to wait for the answer (the client's default is a minute).
  def complete(model:, messages:, timeout: 60)
    uri = URI("#{ENV.fetch('OPENAI_BASE_URL', 'https://api.openai.com/v1')}/chat/completions")
    request = Net::HTTP::Post.new(uri.path, "Authorization" => "Bearer #{ENV.fetch('OPENAI_API_KEY', '')}",
                                            "Content-Type" => "application/json")
    request.body = JSON.generate(model: model, messages: messages)
    response = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https", open_timeout: 5,
                                                   read_timeout: timeout) { |http| http.request(request) }
    raise "OpenAI answered #{response.code}" unless response.is_a?(Net::HTTPSuccess)

    data = JSON.parse(response.body)
    Answer.new(data.dig("choices", 0, "message", "content"), data["usage"] || {})
  end
end
