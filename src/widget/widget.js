/* probe */ console.log("hi");
