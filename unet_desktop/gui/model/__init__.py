"""The model in the window: predictions shown and accepted, the Model menu, versions, batch predict."""
