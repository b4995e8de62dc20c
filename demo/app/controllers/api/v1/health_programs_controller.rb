# frozen_string_literal: true

module Api
  module V1
    # A preview of the user's next program, asked of the model while the
    # phone waits (the call belongs in a job).
    class HealthProgramsController < BaseController
      def create
        goal = params.fetch(:goal, "general fitness")
        answer = OpenaiChat.complete(model: "gpt-4o-mini",
                                     messages: [{ role: "system", content: "You are a personal trainer." },
                                                { role: "user", content: "Preview a 4-week program for #{goal}." }])
        render json: { user_id: current_user.id, goal: goal, preview: answer.content }, status: :created
      end
    end
  end
end
