# frozen_string_literal: true

class Food < ApplicationRecord
end
