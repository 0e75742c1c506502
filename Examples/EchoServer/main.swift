import RingPoll

// Placeholder until the example lands.
print("not written yet")
